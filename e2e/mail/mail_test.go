package mail_test

import (
	"fmt"
	"net/http"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/testkit/dbtest"
	"github.com/switchboardhq/switchboard/internal/testkit/harness"
	"github.com/switchboardhq/switchboard/internal/testkit/mailpit"
)

// send sends a raw mail to the listener at addr, as an MTA forwarding the
// support address would.
func send(t *testing.T, addr, from string, to []string, raw string) error {
	t.Helper()
	return smtp.SendMail(addr, nil, from, to, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
}

const ticketsOfMe = `{ me { id } tickets(first: 20, orderBy: {field: CREATED_AT, direction: ASC}) { edges { node { id subject channel requester { email } messages { edges { node { body emailOriginal attachments { filename contentType } author { email } } } } } } } }`

func TestEmailChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, tg dbtest.Target) {
		mp := mailpit.Start(t)
		smtpAddr := fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t))
		d := harness.NewDesk(t, tg, map[string]string{
			"SWITCHBOARD_SMTP_ADDR": smtpAddr, "SWITCHBOARD_SMTP_URL": mp.SMTPURL(),
			"SWITCHBOARD_MAIL_FROM": "Acme Support <support@acme.test>", "SWITCHBOARD_MAIL_INBOUND_ADDRESSES": "support@acme.test,billing@acme.test=Billing",
		})
		ann, annID := d.Staff(t, "ann@example.com", "Ann", "AGENT")
		billing := d.Group(t, "Billing", annID)
		// Carol's mails: Ann, in Billing, is mailed notifications too.
		carols := func() []mailpit.Summary {
			var out []mailpit.Summary
			for _, m := range mp.Messages() {
				if len(m.To) > 0 && m.To[0].Address == "carol@customer.test" {
					out = append(out, m)
				}
			}
			return out
		}
		waitCarols := func(n int) []mailpit.Summary {
			for deadline := time.Now().Add(20 * time.Second); len(carols()) < n && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			return carols()
		}
		tickets := func(t *testing.T) []any {
			t.Helper()
			r := d.S.Do(t, d.Admin, ticketsOfMe, nil).OK(t)
			list, _ := harness.Path(r, "tickets", "edges").([]any)
			return list
		}

		// A mail from someone unknown opens a ticket, for a new customer.
		err := send(t, smtpAddr, "carol@customer.test", []string{"billing@acme.test"}, `From: Carol Customer <carol@customer.test>
To: billing@acme.test
Subject: Invoice 42 is wrong
Message-ID: <first.carol@customer.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=utf-8

The total should be 40, not 42.

-- 
Carol
--b
Content-Type: application/pdf
Content-Disposition: attachment; filename="invoice-42.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQgaW52b2ljZQ==
--b--
`)
		if err != nil {
			t.Fatalf("sending the first mail: %v", err)
		}
		list := tickets(t)
		if len(list) != 1 {
			t.Fatalf("tickets after the first mail: %v", list)
		}
		tk := list[0]
		ticketID := harness.Str(tk, "node", "id")
		if harness.Str(tk, "node", "channel") != "EMAIL" || harness.Str(tk, "node", "requester", "email") != "carol@customer.test" ||
			harness.Str(tk, "node", "subject") != "Invoice 42 is wrong" {
			t.Fatalf("ticket %v", tk)
		}
		first := harness.Path(tk, "node", "messages", "edges", 0, "node")
		if body := harness.Str(first, "body"); body != "The total should be 40, not 42." {
			t.Errorf("visible body %q (the signature must go)", body)
		}
		if !strings.Contains(harness.Str(first, "emailOriginal"), "Carol") {
			t.Errorf("the original is not kept for staff: %q", harness.Str(first, "emailOriginal"))
		}
		if harness.Str(first, "attachments", 0, "filename") != "invoice-42.pdf" || harness.Str(first, "attachments", 0, "contentType") != "application/pdf" {
			t.Errorf("attachments %v", harness.Path(first, "attachments"))
		}
		group := d.S.Do(t, d.Admin, `query($id: ID!) { node(id: $id) { ... on Ticket { group { id } } } }`, map[string]any{"id": ticketID}).OK(t)
		if harness.Str(group, "node", "group", "id") != billing {
			t.Errorf("billing@ routes to Billing: %v", group)
		}

		t.Run("TheSameMailTwiceIsStoredOnce", func(t *testing.T) {
			_ = send(t, smtpAddr, "carol@customer.test", []string{"billing@acme.test"}, "From: carol@customer.test\nTo: billing@acme.test\nSubject: Invoice 42 is wrong\nMessage-ID: <first.carol@customer.test>\n\nThe total should be 40, not 42.\n")
			if n := len(tickets(t)); n != 1 {
				t.Fatalf("%d tickets after the same mail again", n)
			}
		})

		// Carol is told her ticket is open, in her mail's thread.
		arrived := waitCarols(1)
		if len(arrived) != 1 {
			t.Fatalf("mailpit has %d mails, want the acknowledgement", len(arrived))
		}
		ack := mp.Message(arrived[0].ID)
		if ack.To[0].Address != "carol@customer.test" || ack.Header("In-Reply-To") != "<first.carol@customer.test>" || ack.Header("Auto-Submitted") != "auto-replied" {
			t.Fatalf("acknowledgement %+v", ack)
		}

		// The agent's reply arrives in the customer's mailbox, threaded.
		d.Message(t, ann, ticketID, "You are right, we will send a corrected invoice.", false)
		d.Message(t, ann, ticketID, "internal: check the VAT table", true)
		waitCarols(2)
		time.Sleep(300 * time.Millisecond)
		if arrived = carols(); len(arrived) != 2 {
			t.Fatalf("mailpit has %d mails, want the acknowledgement and the one reply (the note must not leave)", len(arrived))
		}
		reply := mp.Message(arrived[0].ID) // newest first
		if reply.To[0].Address != "carol@customer.test" || !strings.Contains(reply.Text, "corrected invoice") {
			t.Fatalf("reply mail %+v", reply)
		}
		if refs := reply.Header("References") + " " + reply.Header("In-Reply-To"); !strings.Contains(refs, "first.carol@customer.test") {
			t.Errorf("the reply does not thread on Carol's mail: References %q, In-Reply-To %q", reply.Header("References"), reply.Header("In-Reply-To"))
		}
		replyTo := reply.ReplyTo[0].Address
		if !strings.HasPrefix(replyTo, "support+") {
			t.Fatalf("Reply-To %q carries no ticket token", replyTo)
		}

		// Carol answers by mail: it lands on the same ticket.
		err = send(t, smtpAddr, "carol@customer.test", []string{replyTo}, fmt.Sprintf(`From: Carol <carol@customer.test>
To: %s
Subject: Re: %s
Message-ID: <second.carol@customer.test>
In-Reply-To: <%s>
References: <first.carol@customer.test> <%s>

Thanks, that works.

On Tue, Acme Support wrote:
> You are right, we will send a corrected invoice.
`, replyTo, reply.Subject, reply.MessageID, reply.MessageID))
		if err != nil {
			t.Fatal(err)
		}
		list = tickets(t)
		if len(list) != 1 {
			t.Fatalf("Carol's answer opened a ticket: %d tickets", len(list))
		}
		msgs := harness.Path(list[0], "node", "messages", "edges").([]any)
		if last := harness.Str(msgs[len(msgs)-1], "node", "body"); last != "Thanks, that works." {
			t.Fatalf("the answer's visible body %q", last)
		}

		t.Run("AnAutoReplyDoesNothing", func(t *testing.T) {
			before := len(carols())
			err := send(t, smtpAddr, "carol@customer.test", []string{replyTo}, "From: carol@customer.test\nTo: "+replyTo+"\nSubject: Out of office\nAuto-Submitted: auto-replied\nMessage-ID: <ooo.carol@customer.test>\n\nI am away until Monday.\n")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			list := tickets(t)
			msgs := harness.Path(list[0], "node", "messages", "edges").([]any)
			if len(list) != 1 || strings.Contains(string(harness.JSON(t, msgs)), "away until Monday") {
				t.Fatalf("the auto-reply was stored")
			}
			if after := len(carols()); after != before {
				t.Fatalf("the auto-reply got a mail back")
			}
		})

		t.Run("ErrForgedFromCannotPostToAnothersTicket", func(t *testing.T) {
			err := send(t, smtpAddr, "mallory@evil.test", []string{replyTo}, "From: mallory@evil.test\nTo: "+replyTo+"\nSubject: Re: invoice\nMessage-ID: <m1@evil.test>\n\nPay to my account instead.\n")
			if err != nil {
				t.Fatal(err)
			}
			list := tickets(t)
			carols := harness.Path(list[0], "node", "messages", "edges").([]any)
			if strings.Contains(string(harness.JSON(t, carols)), "my account") {
				t.Fatal("a stranger posted to Carol's ticket with her reply address")
			}
			if len(list) != 2 || harness.Str(list[1], "node", "requester", "email") != "mallory@evil.test" {
				t.Fatalf("the stranger's mail should open a ticket of their own: %v", list)
			}
			// A token made up is no token: a forged reply address too.
			err = send(t, smtpAddr, "carol@customer.test", []string{"support+" + ticketID + "-abcdef@acme.test"}, "From: carol@customer.test\nTo: support+x@acme.test\nSubject: guessed\nMessage-ID: <g1@customer.test>\n\nguessed token\n")
			if err != nil {
				t.Fatal(err)
			}
			if n := len(tickets(t)); n != 3 {
				t.Fatalf("a mail to a made-up token should open a new ticket: %d tickets", n)
			}
		})

		t.Run("PasswordResetClaimsTheAccount", func(t *testing.T) {
			d.S.Do(t, "", `mutation { requestPasswordReset(email: "carol@customer.test") }`, nil).OK(t)
			var id string
			for deadline := time.Now().Add(20 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				for _, m := range mp.Messages() {
					if strings.Contains(m.MessageID, "password-reset") {
						id = m.ID
					}
				}
			}
			if id == "" {
				t.Fatalf("no reset mail")
			}
			m := mp.Message(id)
			_, rest, ok := strings.Cut(m.Text, "token=")
			if !ok || m.To[0].Address != "carol@customer.test" {
				t.Fatalf("reset mail %+v", m)
			}
			token := strings.Fields(rest)[0]
			d.S.Do(t, "", `mutation($t: String!) { resetPassword(token: $t, newPassword: "violet harbor kettle lamp") }`, map[string]any{"t": token}).OK(t)
			if tok := harness.Login(t, d.S, "carol@customer.test", "violet harbor kettle lamp"); tok == "" {
				t.Fatal("cannot sign in with the new password")
			}
			r := d.S.Do(t, "", `mutation($t: String!) { resetPassword(token: $t, newPassword: "another fine password 9") }`, map[string]any{"t": token})
			if r.Code(t) != "BAD_USER_INPUT" {
				t.Fatalf("a used token again: %s", r.Raw)
			}
		})

		t.Run("ABounceStopsMailUntilTheyWrite", func(t *testing.T) {
			err := send(t, smtpAddr, "", []string{"support@acme.test"}, `From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
To: support@acme.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.customer.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=r

--r
Content-Type: text/plain

The mail could not be delivered.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test

Final-Recipient: rfc822; carol@customer.test
Action: failed
Status: 5.1.1
--r--
`)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second) // mails of the subtests before are out
			before := len(carols())
			d.Message(t, ann, ticketID, "Did you get the invoice?", false)
			time.Sleep(time.Second)
			if after := len(carols()); after != before {
				t.Fatalf("mail went to a bouncing address (%d → %d)", before, after)
			}
			if n := len(tickets(t)); n != 3 {
				t.Fatalf("the bounce opened a ticket: %d", n)
			}
			// Carol writes again: her address works, replies are mailed.
			if err := send(t, smtpAddr, "carol@customer.test", []string{replyTo}, "From: carol@customer.test\nTo: "+replyTo+"\nSubject: Re: invoice\nMessage-ID: <third.carol@customer.test>\n\nmy mailbox was full\n"); err != nil {
				t.Fatal(err)
			}
			d.Message(t, ann, ticketID, "Sent again.", false)
			if got := waitCarols(before + 1); len(got) != before+1 {
				t.Fatalf("no mail after Carol wrote again")
			}
		})

		t.Run("ErrUnknownAddressIsRefused", func(t *testing.T) {
			err := send(t, smtpAddr, "carol@customer.test", []string{"nobody@acme.test"}, "From: carol@customer.test\nTo: nobody@acme.test\nSubject: x\n\nx\n")
			if err == nil || !strings.Contains(err.Error(), "550") {
				t.Fatalf("mail to an unknown address: %v, want 550", err)
			}
		})
	})
}

// TestOutboxAdmin: a mail that could not be delivered is FAILED with the
// reason, listed to admins only, and delivered once retried, with the
// same Message-ID.
func TestOutboxAdmin(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	mp := mailpit.New(t) // its ports reserved, the server down
	d := harness.NewDesk(t, tg, map[string]string{
		"SWITCHBOARD_SMTP_URL": mp.SMTPURL(), "SWITCHBOARD_MAIL_FROM": "Support <support@acme.test>",
		"SWITCHBOARD_OUTBOX_MAX_ATTEMPTS": "1", "SWITCHBOARD_SMTP_TIMEOUT": "2s", "SWITCHBOARD_OUTBOX_POLL_INTERVAL": "100ms",
	})
	ann, _ := d.Staff(t, "ann@example.com", "Ann", "AGENT")
	cust, _ := harness.Signup(t, d.S, "dan@customer.test", "Dan")
	ticket := d.Ticket(t, cust, map[string]any{"subject": "Help", "body": "please"})
	d.Message(t, d.Admin, ticket, "We are on it.", false)

	const list = `{ outboxMessages(status: FAILED) { id kind status recipient messageID attempts lastError ticketID } }`
	var failed []any
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if failed, _ = harness.Path(d.S.Do(t, d.Admin, list, nil).OK(t), "outboxMessages").([]any); len(failed) > 0 {
			break
		}
	}
	if len(failed) != 1 || harness.Str(failed[0], "recipient") != "dan@customer.test" || harness.Str(failed[0], "lastError") == "" ||
		harness.Str(failed[0], "kind") != "TICKET_REPLY" || harness.Str(failed[0], "ticketID") != ticket {
		t.Fatalf("failed mails: %v", failed)
	}
	id, messageID := harness.Str(failed[0], "id"), harness.Str(failed[0], "messageID")
	for who, token := range map[string]string{"customer": cust, "agent": ann} {
		if got := harness.Path(d.S.Do(t, token, list, nil).OK(t), "outboxMessages").([]any); len(got) != 0 {
			t.Errorf("the %s sees the outbox: %v", who, got)
		}
	}
	if r := d.S.Do(t, ann, `mutation($id: ID!) { retryOutboxMessage(id: $id) { id } }`, map[string]any{"id": id}); r.Code(t) != "NOT_FOUND" {
		t.Errorf("an agent retries: %s", r.Raw)
	}
	mp.Start()
	r := d.S.Do(t, d.Admin, `mutation($id: ID!) { retryOutboxMessage(id: $id) { status attempts } }`, map[string]any{"id": id}).OK(t)
	if harness.Str(r, "retryOutboxMessage", "status") != "PENDING" {
		t.Fatalf("retry: %v", r)
	}
	arrived := mp.WaitFor(1, 20*time.Second)
	if len(arrived) != 1 || arrived[0].MessageID != messageID {
		t.Fatalf("after the retry mailpit has %v, want the one mail %s", arrived, messageID)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := d.S.Do(t, d.Admin, `mutation($id: ID!) { retryOutboxMessage(id: $id) { id } }`, map[string]any{"id": id})
		if r.Code(t) == "CONFLICT" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retrying a sent mail: %s", r.Raw)
		}
	}
	if r := d.S.Do(t, d.Admin, `{ outboxMessages(first: 101) { id } }`, nil); r.Code(t) != "BAD_USER_INPUT" {
		t.Errorf("first: 101: %s", r.Raw)
	}
	if r := d.S.Do(t, d.Admin, `{ outboxMessages(first: null) { id } }`, nil); len(r.Errors) != 0 {
		t.Errorf("first: null: %s", r.Raw)
	}
}

// TestNotificationMail: a notification reaches a user who is not online
// by mail, with a one-click unsubscribe that turns that kind off.
func TestNotificationMail(t *testing.T) {
	tg := dbtest.NewTarget(t, dbtest.SQLite)
	mp := mailpit.Start(t)
	d := harness.NewDesk(t, tg, map[string]string{"SWITCHBOARD_SMTP_URL": mp.SMTPURL(), "SWITCHBOARD_MAIL_FROM": "Support <support@acme.test>"})
	_, annID := d.Staff(t, "ann@example.com", "Ann", "AGENT")
	cust, _ := harness.Signup(t, d.S, "erin@customer.test", "Erin")
	first := d.Ticket(t, cust, map[string]any{"subject": "First", "body": "one"})
	second := d.Ticket(t, cust, map[string]any{"subject": "Second", "body": "two"})

	d.Update(t, d.Admin, first, map[string]any{"assigneeID": annID})
	var note mailpit.Message
	for deadline := time.Now().Add(20 * time.Second); note.ID == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range mp.Messages() {
			if m.To[0].Address == "ann@example.com" {
				note = mp.Message(m.ID)
			}
		}
	}
	if note.ID == "" || !strings.Contains(note.Subject, "First") || note.Header("Auto-Submitted") != "auto-generated" {
		t.Fatalf("notification mail %+v", note)
	}
	unsub := strings.Trim(note.Header("List-Unsubscribe"), "<>")
	if !strings.Contains(unsub, "/mail/unsubscribe?") || note.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q", note.Header("List-Unsubscribe"))
	}
	link := strings.Replace(unsub, "http://localhost:8080", d.S.URL, 1)
	if res, err := http.Get(link); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET of the link: %v %v", res, err)
	}
	if res, err := http.Get(link + "x"); err != nil || res.StatusCode != 404 {
		t.Fatalf("GET of a changed link: %v %v", res, err)
	}
	res, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %v %v", res, err)
	}
	prefs := d.S.Do(t, harness.Login(t, d.S, "ann@example.com", harness.DeskPassword), `{ notificationPreferences { kind enabled } }`, nil).OK(t)
	if !strings.Contains(string(harness.JSON(t, prefs)), `{"enabled":false,"kind":"ASSIGNED"}`) {
		t.Fatalf("preferences after unsubscribing: %s", harness.JSON(t, prefs))
	}
	before := len(mp.Messages())
	d.Update(t, d.Admin, second, map[string]any{"assigneeID": annID})
	time.Sleep(time.Second)
	for _, m := range mp.Messages()[:len(mp.Messages())-before] {
		if m.To[0].Address == "ann@example.com" {
			t.Fatalf("mailed after unsubscribing: %+v", m)
		}
	}
}
