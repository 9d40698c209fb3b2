package wstransport

import "testing"

func TestFrames(t *testing.T) {
	var f frames
	payload := []byte(`{"data":{"x":1}}`)
	one := f.frame(resultHead("1", false), payload)
	if string(one) != `{"id":"1","type":"next","payload":{"data":{"x":1}}}` {
		t.Fatalf("frame = %s", one)
	}
	t.Run("SubscribersOfOneIDShareTheFrame", func(t *testing.T) {
		if again := f.frame(resultHead("1", false), payload); &again[0] != &one[0] {
			t.Fatal("the same rendering for the same operation id was framed twice")
		}
	})
	t.Run("AnotherIDGetsItsOwn", func(t *testing.T) {
		if other := f.frame(resultHead("7", true), payload); string(other) != `{"id":"7","type":"data","payload":{"data":{"x":1}}}` {
			t.Fatalf("frame = %s", other)
		}
	})
	t.Run("AnEqualPayloadOfAnotherRenderingIsFramedAfresh", func(t *testing.T) {
		first := f.frame(resultHead("1", false), payload)
		copied := append([]byte(nil), payload...)
		if again := f.frame(resultHead("1", false), copied); &again[0] == &first[0] || string(again) != string(first) {
			t.Fatal("a frame was reused for a payload it was not made of")
		}
		if again := f.frame(resultHead("1", false), copied); &again[0] == &one[0] {
			t.Fatal("a frame was reused for a payload it was not made of")
		}
	})
}
