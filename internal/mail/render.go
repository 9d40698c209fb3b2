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
var Kinds = []string{"TICKET_REPLY", "PASSWORD_RESET", "TICKET_ACK"}

// LoadTemplates parses the embedded templates.
func LoadTemplates() (*Templates, error) {
	t := &Templates{subject: map[string]*texttemplate.Template{}, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, kind := range Kinds {
		var err error
		if t.subject[kind], err = texttemplate.ParseFS(templateFiles, "templates/"+kind+".subject.txt"); err != nil {
			return nil, err
		}
		if t.text[kind], err = texttemplate.ParseFS(templateFiles, "templates/"+kind+".txt"); err != nil {
			return nil, err
		}
		if t.html[kind], err = htmltemplate.ParseFS(templateFiles, "templates/"+kind+".html"); err != nil {
			return nil, err
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
