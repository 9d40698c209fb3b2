// Package mail is Switchboard's mail: the templates of the mails it
// sends (text and HTML per kind, embedded), delivery over SMTP
// (wneessen/go-mail), and the signed ticket tokens of reply addresses.
// What to send and when is internal/outbox's.
package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
)

//go:embed templates
var templateFiles embed.FS

// Rendered is a mail's subject and bodies.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// Templates are the parsed templates of every kind.
type Templates struct {
	subject map[string]*texttemplate.Template
	text    map[string]*texttemplate.Template
	html    map[string]*htmltemplate.Template
}

// Kinds of mail with templates (the outbox's kinds).
var Kinds = []string{"TICKET_REPLY", "PASSWORD_RESET", "TICKET_ACK", "NOTIFICATION"}

// LoadTemplates parses the embedded templates, each replaced by the file
// of the same name in dir when dir (SWITCHBOARD_MAIL_TEMPLATES_DIR) has
// one: KIND.subject.txt, KIND.txt, KIND.html. A file that does not parse
// is an error naming it, so a bad override stops the start, not a mail.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{subject: map[string]*texttemplate.Template{}, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	source := func(name string) (fs.FS, string) {
		if dir != "" {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return os.DirFS(dir), name
			}
		}
		return templateFiles, "templates/" + name
	}
	for _, kind := range Kinds {
		var err error
		fsys, name := source(kind + ".subject.txt")
		if t.subject[kind], err = texttemplate.ParseFS(fsys, name); err != nil {
			return nil, fmt.Errorf("mail template %s: %w", name, err)
		}
		fsys, name = source(kind + ".txt")
		if t.text[kind], err = texttemplate.ParseFS(fsys, name); err != nil {
			return nil, fmt.Errorf("mail template %s: %w", name, err)
		}
		fsys, name = source(kind + ".html")
		if t.html[kind], err = htmltemplate.ParseFS(fsys, name); err != nil {
			return nil, fmt.Errorf("mail template %s: %w", name, err)
		}
	}
	return t, nil
}

// Render renders the mail of kind with data.
func (t *Templates) Render(kind string, data any) (Rendered, error) {
	st, ok := t.subject[kind]
	if !ok {
		return Rendered{}, fmt.Errorf("mail: no templates for %q", kind)
	}
	var subject, text, html bytes.Buffer
	if err := st.Execute(&subject, data); err != nil {
		return Rendered{}, err
	}
	if err := t.text[kind].Execute(&text, data); err != nil {
		return Rendered{}, err
	}
	if err := t.html[kind].Execute(&html, data); err != nil {
		return Rendered{}, err
	}
	// A subject is one line, whatever the data held.
	s := strings.Join(strings.Fields(subject.String()), " ")
	return Rendered{Subject: s, Text: text.String(), HTML: html.String()}, nil
}
