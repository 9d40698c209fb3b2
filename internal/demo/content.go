package demo

type topic struct {
	subject, body string
	group         int // index into the demo groups: Billing, Technical, Sales
}

var topics = []topic{
	{"Charged twice this month", "Hi, my card was charged twice for the March invoice. Can you refund one of them?", 0},
	{"Invoice shows the wrong company name", "Our invoices still show our old company name. How can we change it?", 0},
	{"Refund for unused seats", "We removed 5 seats last week; will we get a prorated refund?", 0},
	{"Cannot update credit card", "The billing page gives an error when I save my new card.", 0},
	{"VAT number missing on invoice", "Please add our VAT number to past invoices.", 0},
	{"Login page keeps reloading", "After entering my password the login page just reloads. Tried two browsers.", 1},
	{"Export to CSV times out", "Exporting last year's reports to CSV never finishes.", 1},
	{"Webhook deliveries failing", "Our endpoint receives no webhooks since yesterday; the dashboard shows 502s.", 1},
	{"Two-factor codes not accepted", "My authenticator codes are rejected although the clock is right.", 1},
	{"API returns 429 too often", "We stay well below the documented limits but get 429 responses.", 1},
	{"Mobile app crashes on start", "The Android app closes right after the splash screen since the update.", 1},
	{"Quote for 200 seats", "We would like a quote for 200 seats with annual billing.", 2},
	{"Upgrade to the enterprise plan", "What do we need to move from Team to Enterprise?", 2},
	{"Discount for non-profits", "Do you offer a discount for registered charities?", 2},
	{"Trial extension", "Could you extend our trial by two weeks? Our evaluation slipped.", 2},
}

var agentReplies = []string{
	"Thanks for reaching out! I'm looking into this now.",
	"Could you send us a screenshot of what you see?",
	"I've fixed this on our side; can you try again?",
	"This is a known issue and our engineers are on it. I'll update you here.",
	"I've applied the change to your account.",
}

var customerReplies = []string{
	"Thanks, that worked!",
	"Still the same problem, unfortunately.",
	"Here is the screenshot you asked for.",
	"Any update on this?",
}

var notes = []string{
	"Internal: customer is on the legacy plan, check before refunding.",
	"Internal: reproduced on staging, filed with engineering.",
	"Internal: VIP account, keep the CSM in the loop.",
}

var firstNames = []string{"Maria", "Jon", "Priya", "Liam", "Chen", "Sofia", "Omar", "Emma", "Kenji", "Ana"}
var lastNames = []string{"Garcia", "Smith", "Patel", "Murphy", "Wei", "Rossi", "Haddad", "Berg"}
