// Package docs_test checks the documentation against the code: every
// setting has a row in configuration.md with its default, the README stays
// the front door (short), and no relative link in the README or docs/
// points at a file or heading that is not there.
package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/switchboardhq/switchboard/internal/config"
)

// TestEverySettingIsDocumented: every setting (and limit) a user can
// change is in the tables of configuration.md, with its default.
func TestEverySettingIsDocumented(t *testing.T) {
	raw, err := os.ReadFile("configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		for _, cell := range strings.Split(line, "|") {
			if env := strings.Trim(strings.TrimSpace(cell), "`"); strings.HasPrefix(env, "SWITCHBOARD_") || env == "DATABASE_URL" || env == "REDIS_URL" {
				rows[env] = line
			}
		}
	}
	for _, s := range config.Settings {
		row, ok := rows[s.Env]
		if !ok {
			t.Errorf("%s has no row in the tables of docs/configuration.md", s.Env)
			continue
		}
		if s.Default != "" && !strings.Contains(row, "`"+s.Default+"`") {
			t.Errorf("the row of %s in docs/configuration.md does not give its default %q:\n%s", s.Env, s.Default, row)
		}
	}
}

// readmeMaxLines is the README's budget: it is the front door (what it
// is, how to start, a walkthrough, where to read more), not the manual.
const readmeMaxLines = 260

// TestReadmeIsTheFrontDoor: the README stays under its budget, and every
// relative link of the README and of docs/*.md points at a file that
// exists (and, into a Markdown file, at a heading it has).
func TestReadmeIsTheFrontDoor(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(readme), "\n"); n >= readmeMaxLines {
		t.Errorf("README.md has %d lines; keep it under %d and move the details to docs/", n, readmeMaxLines)
	}
	docs, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range append([]string{"../README.md"}, docs...) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range links(string(raw)) {
			if isExternal(l.target) {
				continue
			}
			path, anchor, _ := strings.Cut(l.target, "#")
			resolved := file
			if path != "" {
				resolved = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
				if _, err := os.Stat(resolved); err != nil {
					t.Errorf("%s:%d: link to %s: no such file (%s)", file, l.line, l.target, resolved)
					continue
				}
			}
			if anchor == "" || !strings.HasSuffix(resolved, ".md") {
				continue
			}
			target, err := os.ReadFile(resolved)
			if err != nil {
				t.Errorf("%s:%d: link to %s: %v", file, l.line, l.target, err)
				continue
			}
			if !headingAnchors(string(target))[anchor] {
				t.Errorf("%s:%d: link to %s: %s has no heading #%s", file, l.line, l.target, resolved, anchor)
			}
		}
	}
}

type link struct {
	target string
	line   int
}

var (
	linkPattern = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeSpan    = regexp.MustCompile("`[^`]*`")
)

// links are the Markdown links of a document outside code blocks and code
// spans.
func links(doc string) []link {
	var out []link
	inFence := false
	for i, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		for _, m := range linkPattern.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, "code"), -1) {
			out = append(out, link{target: m[1], line: i + 1})
		}
	}
	return out
}

func isExternal(target string) bool {
	for _, scheme := range []string{"http://", "https://", "mailto:"} {
		if strings.HasPrefix(target, scheme) {
			return true
		}
	}
	return false
}

// headingAnchors are the anchors GitHub gives a document's headings:
// lower case, punctuation dropped, spaces as hyphens, and -1, -2, … after
// a repeated one.
func headingAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		anchor := b.String()
		if n := seen[anchor]; n > 0 {
			seen[anchor] = n + 1
			anchor += "-" + strconv.Itoa(n)
		} else {
			seen[anchor] = 1
		}
		anchors[anchor] = true
	}
	return anchors
}
