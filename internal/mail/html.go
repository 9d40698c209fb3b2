package mail

import (
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText turns an HTML body into plain text for people to read. It
// never keeps markup: it reads the document with the HTML tokenizer (no
// tree, so nesting costs nothing), keeps only the text tokens (entities
// decoded by the tokenizer), drops what is not content (head, script,
// style, templates, embedded objects), ends a line at block elements,
// writes a link as "text (url)" for http, https and mailto addresses (any
// other scheme, javascript: included, is dropped), and prefixes the lines
// of a <blockquote> with "> " per level, so that StripQuoted recognises
// the quoted replies of HTML-only mails too. It reads at most max bytes
// of r (max <= 0: no bound of its own).
func HTMLToText(r io.Reader, max int64) (string, error) {
	if max > 0 {
		r = io.LimitReader(r, max)
	}
	z := html.NewTokenizer(r)
	w := &htmlTextWriter{}
	skip := 0             // depth inside elements whose content is dropped
	quote := 0            // blockquote depth
	var links []*htmlLink // open <a> elements
	pre := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				return "", err
			}
			return w.String(), nil
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			for _, l := range links {
				if l.text.Len() < maxLinkText {
					l.text.WriteString(text)
				}
			}
			w.text(text, pre > 0)
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			end := tt == html.EndTagToken
			if htmlDropped[a] {
				if tt == html.StartTagToken {
					skip++
				} else if end && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch a {
			case atom.Br:
				w.lineBreak(quote)
			case atom.Blockquote:
				if end {
					if quote > 0 {
						quote--
					}
				} else if tt == html.StartTagToken {
					quote++
				}
				w.paragraph(quote)
			case atom.Pre:
				if end {
					if pre > 0 {
						pre--
					}
				} else if tt == html.StartTagToken {
					pre++
				}
				w.newline(quote)
			case atom.Li:
				if !end {
					w.newline(quote)
					w.text("- ", true)
				}
			case atom.Td, atom.Th:
				if !end {
					w.text(" ", false)
				}
			case atom.Hr:
				w.paragraph(quote)
			case atom.A:
				if end {
					if n := len(links); n > 0 {
						l := links[n-1]
						links = links[:n-1]
						if u := htmlSafeURL(l.href); u != "" && strings.TrimSpace(l.text.String()) != u && strings.TrimPrefix(u, "mailto:") != strings.TrimSpace(l.text.String()) {
							w.text(" ("+u+")", false)
						}
					}
				} else if tt == html.StartTagToken {
					var href string
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						if string(k) == "href" {
							href = string(v)
						}
					}
					if len(links) == maxOpenLinks { // unclosed <a>s cost nothing
						links = links[1:]
					}
					links = append(links, &htmlLink{href: href})
				}
			case atom.Img:
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "alt" && strings.TrimSpace(string(v)) != "" {
						w.text("["+strings.TrimSpace(string(v))+"]", false)
					}
				}
			default:
				if htmlParagraphs[a] {
					w.paragraph(quote)
				} else if htmlBlocks[a] {
					w.newline(quote)
				}
			}
		}
	}
}

// An <a>'s text is kept (to compare with its href) up to maxLinkText
// bytes, for at most maxOpenLinks nested or unclosed links.
const (
	maxLinkText  = 2048
	maxOpenLinks = 8
)

type htmlLink struct {
	href string
	text strings.Builder
}

// htmlSafeURL is href when it is an http, https or mailto address, else "".
func htmlSafeURL(href string) string {
	href = strings.TrimSpace(href)
	l := strings.ToLower(href)
	if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "mailto:") {
		return strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, href)
	}
	return ""
}

// dropped are the elements whose content is not text to read.
var htmlDropped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Title: true, atom.Template: true,
	atom.Noscript: true, atom.Iframe: true, atom.Object: true, atom.Svg: true, atom.Math: true,
	atom.Select: true, atom.Textarea: true, atom.Button: true, atom.Noframes: true,
}

// paragraphs are separated from what surrounds them by a blank line,
// blocks by a line break.
var htmlParagraphs = map[atom.Atom]bool{
	atom.P: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Dl: true,
}

var htmlBlocks = map[atom.Atom]bool{
	atom.Div: true, atom.Tr: true, atom.Section: true, atom.Article: true, atom.Header: true,
	atom.Footer: true, atom.Nav: true, atom.Aside: true, atom.Address: true, atom.Center: true,
	atom.Dt: true, atom.Dd: true, atom.Figure: true, atom.Figcaption: true, atom.Main: true,
	atom.Tbody: true, atom.Thead: true, atom.Tfoot: true, atom.Caption: true, atom.Form: true,
	atom.Fieldset: true, atom.Legend: true, atom.Details: true, atom.Summary: true,
}

// htmlTextWriter collects lines, each with the blockquote depth it began
// in, collapsing white space as a browser does (outside <pre>).
type htmlTextWriter struct {
	lines []htmlTextLine
	cur   htmlTextLine
	open  bool // cur has begun
	space bool // a space is pending before the next word
	blank int  // line breaks asked for since the last text (2: a blank line)
}

type htmlTextLine struct {
	quote int
	b     strings.Builder
}

func (w *htmlTextWriter) newline(quote int) {
	if w.blank < 1 {
		w.blank = 1
	}
	w.flush(quote)
}

// lineBreak ends the current line, or, on an empty one (<br><br>, or
// <div><br></div>), writes an empty line.
func (w *htmlTextWriter) lineBreak(quote int) {
	if !w.open && len(w.lines) > 0 {
		w.lines = append(w.lines, htmlTextLine{quote: min(quote, w.lines[len(w.lines)-1].quote)})
		w.blank = 0
	}
	w.newline(quote)
	w.blank = 0
}

func (w *htmlTextWriter) paragraph(quote int) {
	w.blank = 2
	w.flush(quote)
}

// flush ends the current line (the next text starts a new one at depth
// quote).
func (w *htmlTextWriter) flush(quote int) {
	if w.open {
		w.lines = append(w.lines, w.cur)
		w.cur = htmlTextLine{}
		w.open = false
	}
	w.cur.quote = quote
	w.space = false
}

func (w *htmlTextWriter) text(s string, pre bool) {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	if pre {
		for i, part := range strings.Split(s, "\n") {
			if i > 0 {
				w.newline(w.cur.quote)
			}
			w.word(part)
		}
		return
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		if s != "" {
			w.space = true
		}
		return
	}
	if s[0] == ' ' || s[0] == '\n' || s[0] == '\t' || s[0] == '\r' {
		w.space = true
	}
	for i, f := range fields {
		if i > 0 {
			w.space = true
		}
		w.word(f)
	}
	last := s[len(s)-1]
	if last == ' ' || last == '\n' || last == '\t' || last == '\r' {
		w.space = true
	}
}

func (w *htmlTextWriter) word(s string) {
	if s == "" {
		return
	}
	if !w.open {
		if len(w.lines) > 0 && w.blank >= 2 {
			w.lines = append(w.lines, htmlTextLine{quote: min(w.cur.quote, w.lines[len(w.lines)-1].quote)})
		}
		w.open, w.space, w.blank = true, false, 0
	}
	if w.space && w.cur.b.Len() > 0 {
		w.cur.b.WriteByte(' ')
	}
	w.space = false
	w.cur.b.WriteString(s)
}

func (w *htmlTextWriter) String() string {
	if w.open {
		w.lines = append(w.lines, w.cur)
		w.open = false
	}
	var b strings.Builder
	for i, l := range w.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		text := strings.TrimRight(l.b.String(), " \t")
		if l.quote > 0 {
			prefix := strings.Repeat(">", l.quote)
			if text != "" {
				prefix += " "
			}
			text = prefix + text
		}
		b.WriteString(text)
	}
	return strings.TrimSpace(b.String())
}
