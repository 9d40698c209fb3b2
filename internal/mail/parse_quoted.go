package mail

import (
	"regexp"
	"strings"
)

// StripQuoted returns what the sender wrote in a reply: text without the
// quoted message and the signature. It only drops lines, never changes
// one, so its result is never longer than text and has no line text
// lacks (FuzzStripQuoted checks both). What it drops:
//
//   - lines quoted with ">" (also inline quotes between answers, whose
//     answers stay);
//   - the attribution line(s) before a quote: "On … wrote:" (Gmail, Apple
//     Mail, Thunderbird; also wrapped over two lines, and in a few other
//     languages);
//   - everything from an Outlook-style header block on: "-----Original
//     Message-----", or a "From:" line followed within a few lines by
//     "Sent:"/"Date:" and "To:"/"Subject:" (Outlook quotes without ">");
//   - everything from the signature separator "-- " (also "--" alone) on;
//   - a trailing "Sent from my …" / "Get Outlook for …" line;
//   - blank lines at either end and runs of more than one blank line.
func StripQuoted(text string) string {
	lines := strings.Split(text, "\n")
	keep := make([]bool, len(lines))
	end := len(lines)
	for i := 0; i < end; i++ {
		line := strings.TrimRight(lines[i], " \t\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case line == "--" || line == "-- " || strings.TrimRight(lines[i], "\r") == "-- ":
			end = i
			continue
		case outlookSeparator.MatchString(trimmed) || isOutlookHeader(lines, i):
			end = i
			continue
		case strings.HasPrefix(strings.TrimLeft(line, " "), ">"):
			continue
		case isAttribution(trimmed):
			continue
		case i+1 < end && isAttribution(trimmed+" "+strings.TrimSpace(lines[i+1])) && startsAttribution.MatchString(trimmed):
			i++ // a wrapped attribution: both lines go
			continue
		}
		keep[i] = true
	}
	// Drop a client's trailing advertisement.
	for i := end - 1; i >= 0; i-- {
		if !keep[i] {
			continue
		}
		if strings.TrimSpace(lines[i]) == "" {
			continue
		}
		if sentFrom.MatchString(strings.TrimSpace(lines[i])) {
			keep[i] = false
		}
		break
	}
	var out []string
	blank := -1 // the first blank line since the last kept one
	for i := 0; i < end; i++ {
		if !keep[i] {
			continue
		}
		if strings.TrimSpace(lines[i]) == "" {
			if blank < 0 {
				blank = i
			}
			continue
		}
		if blank >= 0 && len(out) > 0 {
			out = append(out, lines[blank])
		}
		blank = -1
		out = append(out, lines[i])
	}
	return strings.Join(out, "\n")
}

var (
	// "On Mon, 3 Jun 2024 at 10:00, Ann <ann@example.com> wrote:" and the
	// German, French, Spanish, Dutch, Italian and Portuguese forms.
	attribution = regexp.MustCompile(`(?i)^(On\b.{0,300}\bwrote|Am\b.{0,300}\bschrieb.{0,100}|Le\b.{0,300}\ba écrit|El\b.{0,300}\bescribió|Op\b.{0,300}\bschreef.{0,100}|Il\b.{0,300}\bha scritto|Em\b.{0,300}\bescreveu)\s*:$`)
	// The first line of a wrapped attribution.
	startsAttribution = regexp.MustCompile(`^(On|Am|Le|El|Op|Il|Em) `)
	outlookSeparator  = regexp.MustCompile(`(?i)^(-{3,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original)\s*-{3,}|_{10,})$`)
	outlookFrom       = regexp.MustCompile(`(?i)^\*?(From|Von|De|Van|Da)\s*:\*?\s*\S`)
	outlookField      = regexp.MustCompile(`(?i)^\*?(Sent|Date|Gesendet|Datum|Envoyé|Enviado|Verzonden|Inviato|To|An|À|Para|Aan|A|Subject|Betreff|Objet|Asunto|Onderwerp|Oggetto|Cc)\s*:`)
	sentFrom          = regexp.MustCompile(`(?i)^(Sent from my \S.{0,40}|Sent from (Mail|Outlook) for \S.{0,40}|Get Outlook for \S.{0,40}|Von meinem \S.{0,40} gesendet)$`)
)

func isAttribution(line string) bool {
	return len(line) < 400 && attribution.MatchString(line)
}

// isOutlookHeader: lines[i] is "From: …" and within the next four lines
// come at least two of Sent/Date/To/Subject/Cc.
func isOutlookHeader(lines []string, i int) bool {
	if !outlookFrom.MatchString(strings.TrimSpace(lines[i])) {
		return false
	}
	n := 0
	for j := i + 1; j < len(lines) && j <= i+5; j++ {
		if outlookField.MatchString(strings.TrimSpace(lines[j])) {
			n++
		}
	}
	return n >= 2
}
