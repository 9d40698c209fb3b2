package tracing

import (
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The OTLP/JSON encoding of an ExportTraceServiceRequest
// (opentelemetry/proto/collector/trace/v1/trace_service.proto), as the
// OTLP specification defines it: the protobuf JSON mapping with
// lowerCamelCase field names, except that trace and span IDs are hex
// strings (not base64); enums are integers, 64-bit integers are decimal
// strings, and fields at their default value may be left out.

type otlpRequest struct {
	ResourceSpans []*otlpResourceSpans `json:"resourceSpans"`
}

type otlpResourceSpans struct {
	Resource   otlpResource      `json:"resource"`
	ScopeSpans []*otlpScopeSpans `json:"scopeSpans"`
	SchemaURL  string            `json:"schemaUrl,omitempty"`
}

type otlpResource struct {
	Attributes []otlpKeyValue `json:"attributes,omitempty"`
}

type otlpScopeSpans struct {
	Scope     otlpScope  `json:"scope"`
	Spans     []otlpSpan `json:"spans"`
	SchemaURL string     `json:"schemaUrl,omitempty"`
}

type otlpScope struct {
	Name       string         `json:"name,omitempty"`
	Version    string         `json:"version,omitempty"`
	Attributes []otlpKeyValue `json:"attributes,omitempty"`
}

type otlpSpan struct {
	TraceID                string         `json:"traceId"`
	SpanID                 string         `json:"spanId"`
	TraceState             string         `json:"traceState,omitempty"`
	ParentSpanID           string         `json:"parentSpanId,omitempty"`
	Flags                  uint32         `json:"flags,omitempty"`
	Name                   string         `json:"name"`
	Kind                   int            `json:"kind"`
	StartTimeUnixNano      string         `json:"startTimeUnixNano"`
	EndTimeUnixNano        string         `json:"endTimeUnixNano"`
	Attributes             []otlpKeyValue `json:"attributes,omitempty"`
	DroppedAttributesCount uint32         `json:"droppedAttributesCount,omitempty"`
	Events                 []otlpEvent    `json:"events,omitempty"`
	DroppedEventsCount     uint32         `json:"droppedEventsCount,omitempty"`
	Links                  []otlpLink     `json:"links,omitempty"`
	DroppedLinksCount      uint32         `json:"droppedLinksCount,omitempty"`
	Status                 otlpStatus     `json:"status"`
}

type otlpEvent struct {
	TimeUnixNano           string         `json:"timeUnixNano"`
	Name                   string         `json:"name"`
	Attributes             []otlpKeyValue `json:"attributes,omitempty"`
	DroppedAttributesCount uint32         `json:"droppedAttributesCount,omitempty"`
}

type otlpLink struct {
	TraceID                string         `json:"traceId"`
	SpanID                 string         `json:"spanId"`
	TraceState             string         `json:"traceState,omitempty"`
	Attributes             []otlpKeyValue `json:"attributes,omitempty"`
	DroppedAttributesCount uint32         `json:"droppedAttributesCount,omitempty"`
	Flags                  uint32         `json:"flags,omitempty"`
}

type otlpStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message,omitempty"`
}

type otlpKeyValue struct {
	Key   string       `json:"key"`
	Value otlpAnyValue `json:"value"`
}

// otlpAnyValue has one field set (none for an empty value).
type otlpAnyValue struct {
	StringValue *string          `json:"stringValue,omitempty"`
	BoolValue   *bool            `json:"boolValue,omitempty"`
	IntValue    string           `json:"intValue,omitempty"`
	DoubleValue *otlpDouble      `json:"doubleValue,omitempty"`
	ArrayValue  *otlpArrayValue  `json:"arrayValue,omitempty"`
	KvlistValue *otlpKvlistValue `json:"kvlistValue,omitempty"`
	BytesValue  *[]byte          `json:"bytesValue,omitempty"` // base64, as protobuf bytes are
}

type otlpArrayValue struct {
	Values []otlpAnyValue `json:"values"`
}

type otlpKvlistValue struct {
	Values []otlpKeyValue `json:"values"`
}

// otlpDouble is a double as the protobuf JSON mapping writes it: a number,
// or "NaN", "Infinity", "-Infinity".
type otlpDouble float64

func (d otlpDouble) MarshalJSON() ([]byte, error) {
	f := float64(d)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// Span flags (opentelemetry/proto/trace/v1/trace.proto, SpanFlags): the
// low 8 bits are the W3C trace flags.
const (
	flagHasIsRemote = 0x100
	flagIsRemote    = 0x200
)

// encodeSpans groups spans by resource, then by instrumentation scope, in
// the order they come.
func encodeSpans(spans []sdktrace.ReadOnlySpan) *otlpRequest {
	req := &otlpRequest{}
	resources := map[attribute.Distinct]*otlpResourceSpans{}
	type scopeKey struct {
		resource attribute.Distinct
		scope    instrumentation.Scope
	}
	scopes := map[scopeKey]*otlpScopeSpans{}
	for _, s := range spans {
		if s == nil {
			continue
		}
		res := s.Resource()
		rk := res.Equivalent()
		rs := resources[rk]
		if rs == nil {
			rs = &otlpResourceSpans{
				Resource:  otlpResource{Attributes: encodeAttributes(res.Attributes())},
				SchemaURL: res.SchemaURL(),
			}
			resources[rk] = rs
			req.ResourceSpans = append(req.ResourceSpans, rs)
		}
		sc := s.InstrumentationScope()
		sk := scopeKey{rk, sc}
		ss := scopes[sk]
		if ss == nil {
			ss = &otlpScopeSpans{
				Scope:     otlpScope{Name: sc.Name, Version: sc.Version, Attributes: encodeAttributes(sc.Attributes.ToSlice())},
				SchemaURL: sc.SchemaURL,
			}
			scopes[sk] = ss
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		ss.Spans = append(ss.Spans, encodeSpan(s))
	}
	return req
}

func encodeSpan(s sdktrace.ReadOnlySpan) otlpSpan {
	sc := s.SpanContext()
	st := s.Status()
	out := otlpSpan{
		TraceID:                traceID(sc.TraceID()),
		SpanID:                 spanID(sc.SpanID()),
		TraceState:             sc.TraceState().String(),
		Flags:                  spanFlags(sc.TraceFlags(), s.Parent()),
		Name:                   s.Name(),
		Kind:                   spanKind(s.SpanKind()),
		StartTimeUnixNano:      unixNano(s.StartTime()),
		EndTimeUnixNano:        unixNano(s.EndTime()),
		Attributes:             encodeAttributes(s.Attributes()),
		DroppedAttributesCount: clampUint32(s.DroppedAttributes()),
		DroppedEventsCount:     clampUint32(s.DroppedEvents()),
		DroppedLinksCount:      clampUint32(s.DroppedLinks()),
		Status:                 otlpStatus{Code: statusCode(st.Code), Message: st.Description},
	}
	if p := s.Parent().SpanID(); p.IsValid() {
		out.ParentSpanID = spanID(p)
	}
	for _, e := range s.Events() {
		out.Events = append(out.Events, otlpEvent{
			TimeUnixNano:           unixNano(e.Time),
			Name:                   e.Name,
			Attributes:             encodeAttributes(e.Attributes),
			DroppedAttributesCount: clampUint32(e.DroppedAttributeCount),
		})
	}
	for _, l := range s.Links() {
		out.Links = append(out.Links, otlpLink{
			TraceID:                traceID(l.SpanContext.TraceID()),
			SpanID:                 spanID(l.SpanContext.SpanID()),
			TraceState:             l.SpanContext.TraceState().String(),
			Attributes:             encodeAttributes(l.Attributes),
			DroppedAttributesCount: clampUint32(l.DroppedAttributeCount),
			Flags:                  spanFlags(l.SpanContext.TraceFlags(), l.SpanContext),
		})
	}
	return out
}

func encodeAttributes(kvs []attribute.KeyValue) []otlpKeyValue {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]otlpKeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = otlpKeyValue{Key: string(kv.Key), Value: encodeValue(kv.Value)}
	}
	return out
}

func encodeValue(v attribute.Value) otlpAnyValue {
	switch v.Type() {
	case attribute.BOOL:
		b := v.AsBool()
		return otlpAnyValue{BoolValue: &b}
	case attribute.INT64:
		return otlpAnyValue{IntValue: strconv.FormatInt(v.AsInt64(), 10)}
	case attribute.FLOAT64:
		d := otlpDouble(v.AsFloat64())
		return otlpAnyValue{DoubleValue: &d}
	case attribute.STRING:
		s := v.AsString()
		return otlpAnyValue{StringValue: &s}
	case attribute.BYTESLICE:
		b := v.AsByteSlice()
		return otlpAnyValue{BytesValue: &b}
	case attribute.BOOLSLICE:
		return array(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		return array(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		return array(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		return array(v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		return array(v.AsSlice(), func(v attribute.Value) attribute.Value { return v })
	case attribute.MAP:
		return otlpAnyValue{KvlistValue: &otlpKvlistValue{Values: encodeAttributes(v.AsMap())}}
	case attribute.EMPTY:
		return otlpAnyValue{}
	}
	s := "INVALID" // as the official exporter writes a type it does not know
	return otlpAnyValue{StringValue: &s}
}

func array[T any](vals []T, value func(T) attribute.Value) otlpAnyValue {
	out := make([]otlpAnyValue, len(vals))
	for i, v := range vals {
		out[i] = encodeValue(value(v))
	}
	return otlpAnyValue{ArrayValue: &otlpArrayValue{Values: out}}
}

func traceID(id trace.TraceID) string { return hex.EncodeToString(id[:]) }
func spanID(id trace.SpanID) string   { return hex.EncodeToString(id[:]) }

func unixNano(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(max(0, t.UnixNano()), 10)
}

func spanFlags(tf trace.TraceFlags, parent trace.SpanContext) uint32 {
	f := uint32(tf) | flagHasIsRemote
	if parent.IsRemote() {
		f |= flagIsRemote
	}
	return f
}

// spanKind is the OTLP SpanKind: UNSPECIFIED 0, INTERNAL 1, SERVER 2,
// CLIENT 3, PRODUCER 4, CONSUMER 5.
func spanKind(k trace.SpanKind) int {
	switch k {
	case trace.SpanKindInternal:
		return 1
	case trace.SpanKindServer:
		return 2
	case trace.SpanKindClient:
		return 3
	case trace.SpanKindProducer:
		return 4
	case trace.SpanKindConsumer:
		return 5
	}
	return 0
}

// statusCode is the OTLP StatusCode: UNSET 0, OK 1, ERROR 2.
func statusCode(c codes.Code) int {
	switch c {
	case codes.Ok:
		return 1
	case codes.Error:
		return 2
	}
	return 0
}

func clampUint32(n int) uint32 {
	return uint32(min(max(n, 0), math.MaxUint32)) //nolint:gosec // clamped
}
