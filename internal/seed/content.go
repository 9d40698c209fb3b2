package seed

// The vocabulary of the generated helpdesk. Subjects and bodies are put
// together from topic-specific templates and fillers, so that full-text
// search over a million messages has distinct words to rank (a search for
// "refund" or "webhook" finds a plausible subset, not everything or nothing).

type topic struct {
	group     string
	tags      []string
	subjects  []string
	sentences []string
}

var groupNames = []string{"Billing", "Technical Support", "Sales", "Accounts", "Shipping", "Integrations", "Security", "Onboarding"}

var topics = []topic{
	{"Billing", []string{"billing", "invoice", "refund"}, []string{
		"Charged twice for the {month} invoice",
		"Refund request for order {order}",
		"Invoice {invoice} shows the wrong company name",
		"VAT number missing on invoice {invoice}",
		"Cannot update the credit card on file",
		"Question about the {plan} plan pricing",
		"Prorated refund for {n} unused seats",
	}, []string{
		"My card ending in {card} was charged twice for the {month} invoice.",
		"The amount of {amount} does not match the price on your website.",
		"Could you refund the duplicate payment to the original card?",
		"We removed {n} seats last week but the invoice still bills all of them.",
		"Our finance team needs a corrected invoice with our VAT number before the end of {month}.",
		"The billing page shows an error when I save the new card.",
		"Please send a credit note for invoice {invoice}.",
		"We are on the {plan} plan and pay yearly.",
		"I was not expecting a renewal charge since we cancelled in {month}.",
	}},
	{"Technical Support", []string{"bug", "login", "performance"}, []string{
		"Login page keeps reloading in {browser}",
		"Export to CSV times out",
		"Dashboard is very slow since the last update",
		"Error {code} when saving a report",
		"Mobile app crashes on start on {os}",
		"Two-factor codes are not accepted",
		"Attachments over {n} MB fail to upload",
		"Search returns no results for older records",
	}, []string{
		"After entering my password the login page just reloads, in {browser} on {os}.",
		"The export of last year's reports never finishes and ends with error {code}.",
		"Loading the dashboard takes more than {n} seconds for everyone in our team.",
		"I cleared the cache and cookies and tried a private window, same result.",
		"The app closes right after the splash screen since version {version}.",
		"My authenticator codes are rejected although the phone's clock is correct.",
		"Uploading a PDF attachment stops at ninety percent and shows a network error.",
		"This started on {weekday} morning and affects about {n} of our users.",
		"Here is the request ID from the error page: {order}.",
		"Searching for invoices older than {month} returns an empty list.",
	}},
	{"Sales", []string{"sales", "quote", "upgrade"}, []string{
		"Quote for {n} seats on the {plan} plan",
		"Upgrade from Team to {plan}",
		"Discount for non-profit organisations",
		"Trial extension request",
		"Volume pricing for our {city} office",
	}, []string{
		"We would like a quote for {n} seats with annual billing.",
		"What do we need to move from the Team plan to {plan}?",
		"We are a registered charity; do you offer a discount?",
		"Could you extend our trial by two weeks? Our evaluation slipped.",
		"Our procurement department in {city} needs a formal offer and your security questionnaire.",
		"Is single sign-on included in the {plan} plan or is it an add-on?",
		"We expect to grow to {n} users by the end of the year.",
	}},
	{"Accounts", []string{"account", "access", "gdpr"}, []string{
		"Please delete my account",
		"Change the owner of our workspace",
		"Locked out after too many attempts",
		"Merge two accounts with the same email",
		"Request a copy of my personal data",
	}, []string{
		"I no longer use the service and want my account and data deleted.",
		"Our previous administrator left the company; please transfer ownership to me.",
		"I was locked out after entering an old password several times.",
		"I accidentally created a second account with my work address.",
		"Under the GDPR I request a copy of all personal data you hold about me.",
		"I cannot reset my password because the reset email never arrives.",
		"Please update the email address on file to my new address.",
	}},
	{"Shipping", []string{"shipping", "delivery", "returns"}, []string{
		"Order {order} has not arrived",
		"Package delivered damaged",
		"Wrong item in order {order}",
		"Change the delivery address for order {order}",
		"Return label for order {order}",
	}, []string{
		"The tracking page has shown 'in transit' for {n} days now.",
		"The box arrived crushed and the {product} inside is broken.",
		"I ordered the {product} in black but received it in white.",
		"We moved to {city}; could you change the delivery address before it ships?",
		"How do I return the {product}? I cannot find the return label.",
		"The courier says the parcel was delivered but nobody here received it.",
		"Please ship a replacement as soon as possible; we need it before {weekday}.",
	}},
	{"Integrations", []string{"api", "webhook", "integration"}, []string{
		"Webhook deliveries failing with {code}",
		"API returns 429 too often",
		"{integration} sync stopped working",
		"OAuth token expires after one hour",
		"Missing fields in the REST API response",
	}, []string{
		"Our endpoint has received no webhooks since {weekday}; the dashboard shows {code} responses.",
		"We stay well below the documented rate limits but still get 429 responses.",
		"The {integration} integration stopped syncing contacts after we renamed a field.",
		"The refresh token is rejected after an hour and users have to connect again.",
		"The API response for orders no longer includes the customer reference field.",
		"We send about {n} requests per minute from two servers in {city}.",
		"Could you check the webhook signing secret? Verification fails for every payload.",
	}},
	{"Security", []string{"security", "phishing", "sso"}, []string{
		"Suspicious login from {city}",
		"Phishing email pretending to be from you",
		"SAML single sign-on configuration fails",
		"Request for your SOC 2 report",
		"Enforce two-factor authentication for all users",
	}, []string{
		"We got an alert about a login from {city} that none of us made.",
		"Several colleagues received an email asking them to confirm their password on a strange domain.",
		"Our identity provider returns an invalid audience error when signing in with SAML.",
		"Our security team needs your latest SOC 2 report and penetration test summary.",
		"How can an administrator require two-factor authentication for every account?",
		"Please revoke all active sessions of the user who left yesterday.",
	}},
	{"Onboarding", []string{"onboarding", "howto", "training"}, []string{
		"How do I import our existing customers?",
		"Setting up the {integration} integration",
		"Training session for {n} new agents",
		"Best way to organise teams and queues",
		"Custom fields on the ticket form",
	}, []string{
		"We are migrating from a spreadsheet with about {n} customers; is there a CSV import?",
		"Is there a step-by-step guide for connecting {integration}?",
		"Could you run a training session for our new agents in {city} next {weekday}?",
		"We have three teams; should each one get its own group and queue?",
		"We need a custom field for the contract number on every ticket.",
		"The documentation link in the welcome email seems to be broken.",
	}},
}

var openings = []string{"Hi,", "Hello,", "Hello team,", "Good morning,", "Hi there,", "Dear support,", ""}

var closings = []string{"Thanks!", "Thank you in advance.", "Best regards.", "Kind regards.", "Cheers.", "Thanks for your help.", ""}

var customerFollowUps = []string{
	"Any update on this? It is still happening.",
	"I tried what you suggested but it did not help.",
	"Thanks, that worked! You can close this.",
	"Here is the screenshot you asked for.",
	"It happened again this morning at about {n} past nine.",
	"Could you escalate this? It blocks our team in {city}.",
	"I attached the log file and the request ID {order}.",
	"Just to confirm: the problem is solved on our side.",
	"We still see error {code} from time to time.",
}

var agentReplies = []string{
	"Thanks for reaching out! I'm looking into this now.",
	"Could you send us a screenshot of what you see?",
	"I have fixed this on our side; could you try again?",
	"This is a known issue and our engineers are working on it. I'll update you here.",
	"I have issued the refund; it should appear on your statement within {n} business days.",
	"Could you tell us which browser and operating system you use?",
	"I have forwarded your request to our {group} team.",
	"Your invoice has been corrected and re-sent to the billing contact.",
	"Please clear your browser cache and sign in again; that should resolve it.",
	"We released version {version} which contains a fix for this.",
	"I have extended your trial until the end of {month}.",
	"The replacement {product} is on its way; here is the new tracking number {order}.",
}

var internalNotes = []string{
	"Checked the logs: the customer's requests fail with {code} since the deploy on {weekday}.",
	"Escalated to engineering, see incident {order}.",
	"Customer is on the {plan} plan with {n} seats; eligible for a goodwill credit.",
	"Duplicate of an earlier ticket from the same company; merging the conversation.",
	"Refund approved by finance, amount {amount}.",
	"Account flagged for a possible chargeback, handle with care.",
	"Waiting for the {integration} partner to confirm the fix.",
	"VIP customer: reply within the hour.",
}

var fillers = map[string][]string{
	"month":       {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"plan":        {"Starter", "Team", "Business", "Enterprise", "Premium"},
	"browser":     {"Chrome", "Firefox", "Safari", "Edge", "Brave"},
	"os":          {"Windows 11", "macOS", "Android", "iOS", "Ubuntu"},
	"city":        {"Berlin", "Lisbon", "Toronto", "Austin", "Singapore", "Nairobi", "Melbourne", "Warsaw", "Osaka", "Dublin", "Lyon", "Bogotá"},
	"integration": {"Salesforce", "Slack", "HubSpot", "Shopify", "Zapier", "Jira", "Mailchimp", "QuickBooks"},
	"product":     {"headset", "keyboard", "docking station", "monitor stand", "webcam", "router", "charger", "laptop sleeve"},
	"weekday":     {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
	"code":        {"500", "502", "503", "504", "401", "403", "E1042", "E2210", "ERR_TIMEOUT", "ECONNRESET"},
	"group":       groupNames,
}

var firstNames = []string{"Maria", "James", "Aiko", "Olumide", "Sofia", "Liam", "Priya", "Mateo", "Chen", "Fatima", "Noah", "Elena", "Kwame", "Hannah", "Ravi", "Lucía", "Oskar", "Amara", "Yusuf", "Ingrid", "Diego", "Mei", "Tomasz", "Zanele", "Pierre", "Ana", "Kenji", "Leila", "Emil", "Grace"}

var lastNames = []string{"Garcia", "Smith", "Tanaka", "Adeyemi", "Rossi", "Murphy", "Sharma", "Fernández", "Wang", "Haddad", "Müller", "Petrova", "Mensah", "Schmidt", "Iyer", "López", "Nowak", "Okafor", "Demir", "Larsen", "Silva", "Lin", "Kowalski", "Dlamini", "Dubois", "Costa", "Sato", "Rahimi", "Berg", "Walsh"}

var extraTags = []string{"vip", "urgent", "follow-up", "escalated", "feedback", "mobile", "eu", "us", "apac", "churn-risk"}
