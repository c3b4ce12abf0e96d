package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/telecart-go/telecart/examples/shop/server"
	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse/pulsetest"
	"github.com/telecart-go/telecart/telecart"
	"github.com/telecart-go/telecart/telegram/botapi/botapitest"
)

// guidePath is the shop owner's guide whose commands these tests run.
const guidePath = "../../docs/botfather-guide.md"

// guideCommand is one `go run ./examples/shop …` line of the guide.
type guideCommand struct {
	line int
	text string
	// env is what the line's shell would see: the guide's earlier exports
	// and the line's own VAR=value prefixes.
	env  map[string]string
	args []string // after "go run ./examples/shop"
}

func (c guideCommand) getenv(name string) string { return c.env[name] }

func (c guideCommand) String() string { return fmt.Sprintf("line %d: %s", c.line, c.text) }

// shellBlocks are the fenced blocks whose lines are shell commands.
var shellBlocks = []string{"sh", "console", "shell", "bash"}

var envAssign = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

// guideCommands extracts the project's commands from the guide's fenced
// shell blocks, in order. A project command anywhere else in a fenced
// block, or one written with shell syntax the test cannot follow, is a
// problem: every command in the guide must be one this test runs.
func guideCommands(text string) ([]guideCommand, []error) {
	var cmds []guideCommand
	var problems []error
	session := map[string]string{}
	inBlock, shell := false, false
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if strings.HasPrefix(trimmed, "```") {
			if inBlock {
				inBlock = false
			} else {
				inBlock = true
				lang, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(trimmed, "```")), " ")
				shell = slices.Contains(shellBlocks, lang)
			}
			continue
		}
		if !inBlock {
			continue
		}
		lineNo := i + 1
		// A trailing backslash continues the command on the next line.
		for strings.HasSuffix(trimmed, `\`) && i+1 < len(lines) {
			i++
			trimmed = strings.TrimSuffix(trimmed, `\`) + " " + strings.TrimSpace(lines[i])
		}
		if !shell {
			if strings.Contains(trimmed, "go run ./examples/shop") {
				problems = append(problems, fmt.Errorf("line %d: a project command outside a sh/console block, which this test would not run: %s", lineNo, trimmed))
			}
			continue
		}
		trimmed = strings.TrimPrefix(trimmed, "$ ")
		words, err := shellWords(trimmed)
		if err != nil {
			if strings.Contains(trimmed, "go run ./examples/shop") {
				problems = append(problems, fmt.Errorf("line %d: %v: %s", lineNo, err, trimmed))
			}
			continue
		}
		if len(words) > 0 && words[0] == "export" {
			for _, w := range words[1:] {
				if k, v, ok := strings.Cut(w, "="); ok {
					session[k] = v
				}
			}
			continue
		}
		env := cloneEnv(session)
		for len(words) > 0 && envAssign.MatchString(words[0]) {
			k, v, _ := strings.Cut(words[0], "=")
			env[k] = v
			words = words[1:]
		}
		if len(words) >= 3 && words[0] == "go" && words[1] == "run" && words[2] == "./examples/shop" {
			cmds = append(cmds, guideCommand{line: lineNo, text: trimmed, env: env, args: words[3:]})
		} else if strings.Contains(trimmed, "go run ./examples/shop") {
			problems = append(problems, fmt.Errorf("line %d: a project command this test cannot run as written (not at the start of the line): %s", lineNo, trimmed))
		}
	}
	return cmds, problems
}

func cloneEnv(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// shellWords splits a command line as a POSIX shell would for the subset the
// guide uses: words, single and double quotes, backslashes and a trailing
// comment. Expansions, pipes, redirections and lists are refused, so that
// the test never runs something other than what a reader would.
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, nil
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				switch line[j] {
				case '$', '`':
					return nil, errors.New("shell expansion in double quotes")
				case '\\':
					j++
					if j < len(line) {
						cur.WriteByte(line[j])
					}
					continue
				}
				cur.WriteByte(line[j])
			}
			if j >= len(line) {
				return nil, errors.New("unterminated double quote")
			}
			i = j
			inWord = true
		case c == '\\':
			if i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			}
			inWord = true
		case strings.IndexByte("$`|&;<>(){}*?[", c) >= 0:
			return nil, fmt.Errorf("shell syntax %q the test does not follow", c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// guideRunner runs the guide's commands against one database and one fake
// Bot API, in the guide's order, as a reader would.
type guideRunner struct {
	t    *testing.T
	db   string // the -db every command is pointed at
	log  string
	fake *botapitest.Server
}

// overrides are the flags that point a command at the test's database, log
// file and fake Bot API (and a fake Pulse API where the command names one);
// given after the guide's own flags, they win.
func (g *guideRunner) overrides(cfg server.Config) []string {
	o := []string{"-db", g.db, "-log-file", g.log, "-bot-token", g.fake.Token, "-bot-api-url", g.fake.URL}
	if cfg.PulseURL != "" {
		p := pulsetest.NewServer(g.t, pulsetest.Config{})
		o = append(o, "-pulse-url", p.URL, "-pulse-api-key", p.APIKey, "-pulse-secret", p.Secret)
	}
	return o
}

// check runs or checks one command and returns what is wrong with it, or nil.
func (g *guideRunner) check(c guideCommand) error {
	cfg, rest, err := server.ParseFlags(c.args, c.getenv)
	if errors.Is(err, flag.ErrHelp) {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, c.getenv, &out, &errb); code != 0 || !strings.Contains(out.String(), "usage: shop") {
			return fmt.Errorf("exit %d, output %q, errors %q", code, out.String(), errb.String())
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("its flags do not parse: %v", err)
	}
	flags := c.args[:len(c.args)-len(rest)]
	args := append(append(slices.Clone(flags), g.overrides(cfg)...), rest...)
	if len(rest) == 0 {
		return g.checkServe(c, cfg, args)
	}
	publicURL := strings.TrimRight(cfg.PublicURL, "/")
	if publicURL == "" {
		publicURL = "http://" + cfg.Addr
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, c.getenv, &out, &errb); code != 0 {
		return fmt.Errorf("exit %d: %s", code, strings.TrimSpace(errb.String()))
	}
	o := out.String()
	want := func(subs ...string) error {
		for _, s := range subs {
			if !strings.Contains(o, s) {
				return fmt.Errorf("output lacks %q:\n%s", s, o)
			}
		}
		return nil
	}
	name := strings.Join(rest, " ")
	switch {
	case name == "migrate status":
		return want("MIGRATION", "telegram/")
	case name == "migrate up":
		return want("applied")
	case name == "pulse send":
		return want("pulse send: claimed")
	case name == "schedule list":
		return want("TASK", "pulse_sweep")
	case len(rest) == 3 && rest[0] == "schedule" && rest[1] == "run":
		return want(rest[2] + " done in")
	case name == "customers recount":
		return want("customers recount:")
	case name == "bot webhook set":
		if w := g.fake.Webhook(); w.URL != publicURL+"/telegram/webhook" || w.SecretToken == "" {
			return fmt.Errorf("Telegram's webhook is %+v, want %s/telegram/webhook with a secret", w, publicURL)
		}
		return want("bot webhook set:")
	case name == "bot webhook info":
		if u := g.fake.Webhook().URL; u != "" {
			return want(u)
		}
		return want("(none: getUpdates)")
	case name == "bot webhook delete":
		if w := g.fake.Webhook(); w.URL != "" {
			return fmt.Errorf("the webhook is still %+v", w)
		}
		return want("bot webhook delete:")
	case name == "bot menu-button set":
		if b, ok := g.fake.MenuButton(0); !ok || b.WebApp == nil || b.WebApp.URL != publicURL+"/app/" {
			return fmt.Errorf("the menu button is %+v, want one opening %s/app/", b, publicURL)
		}
		return want("bot menu-button set:")
	default:
		return fmt.Errorf("the demo ran %q, which this test does not check yet: add its expected output here", name)
	}
}

// checkServe checks a serving command without serving: its values make
// sense, and the shop builds with them (on the test's database).
func (g *guideRunner) checkServe(c guideCommand, cfg server.Config, args []string) error {
	switch cfg.BotUpdates {
	case telecart.BotUpdatesOff, telecart.BotUpdatesPoll, telecart.BotUpdatesWebhook:
	default:
		return fmt.Errorf("-bot-updates %q is none of off, poll, webhook", cfg.BotUpdates)
	}
	if cfg.BotUpdates != telecart.BotUpdatesOff && !strings.HasPrefix(cfg.PublicURL, "https://") {
		return fmt.Errorf("-bot-updates %s without an https -public-url (%q): Telegram would not reach the shop", cfg.BotUpdates, cfg.PublicURL)
	}
	if cfg.PublicURL != "" && !strings.HasPrefix(cfg.PublicURL, "https://") {
		return fmt.Errorf("-public-url %q is not https: Telegram opens only https Mini Apps", cfg.PublicURL)
	}
	if _, _, err := telecart.ParseOwnerChat(cfg.OwnerChat); err != nil {
		return err
	}
	if !strings.HasPrefix(cfg.DB, "sqlite:") && !strings.HasPrefix(cfg.DB, "mysql:") {
		return fmt.Errorf("-db %q is neither sqlite: nor mysql:", cfg.DB)
	}
	if cfg.PulseURL != "" && (cfg.PulseAPIKey == "" || cfg.PulseSecret == "") {
		return errors.New("-pulse-url without -pulse-api-key and -pulse-secret")
	}
	built, _, err := server.ParseFlags(args, c.getenv)
	if err != nil {
		return err
	}
	built.Stdout = &bytes.Buffer{}
	s, err := server.New(context.Background(), built)
	if err != nil {
		return fmt.Errorf("the shop does not build with these flags: %v", err)
	}
	return s.Stop(context.Background())
}

// newGuideRunner makes a runner on a fresh database of dialect d.
func newGuideRunner(t *testing.T, d migrator.Dialect) *guideRunner {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "guide.db")
	if d == migrator.MySQL {
		dsn = "mysql:" + migratortest.FreshDSN(t, d)
	}
	return &guideRunner{t: t, db: dsn, log: filepath.Join(t.TempDir(), "guide.log"),
		fake: botapitest.NewServer(t, botapitest.Config{})}
}

func readGuide(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(guidePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Ensure every project command in docs/botfather-guide.md is one the demo
// has: operator commands run, in the guide's order, against a fresh
// database and a fake Bot API (the bot's commands included) and print what
// they should; serving commands' flags parse and build the shop. On SQLite
// and MariaDB.
func TestGuideCommands(t *testing.T) {
	text := readGuide(t)
	cmds, problems := guideCommands(text)
	for _, p := range problems {
		t.Error(p)
	}
	// The guide must keep covering what a shop owner needs; without this
	// an emptied guide would pass.
	joined := ""
	for _, c := range cmds {
		joined += " " + strings.Join(c.args, " ") + "\n"
	}
	for _, want := range []string{" -h\n", "bot menu-button set\n", "bot webhook set\n", "bot webhook info\n",
		"bot webhook delete\n", "-bot-updates webhook", "-bot-updates poll", "-owner-chat -", "-public-url https://",
		"-pulse-url ", "-pulse-api-key ", "-pulse-secret ", "-db mysql:", "pulse send\n", "migrate status\n"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the guide's commands lack %q", strings.TrimSpace(want))
		}
	}
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			g := newGuideRunner(t, d)
			for _, c := range cmds {
				if err := g.check(c); err != nil {
					t.Errorf("%s: %v", c, err)
				} else {
					t.Logf("ok %s", c)
				}
			}
		})
	}
}

// Ensure the checks fail on a guide that drifted: a command the demo does
// not have, a flag it does not take, a bad value, a project command outside
// a shell block, and shell syntax the test cannot follow.
func TestGuideCommandsCatchDrift(t *testing.T) {
	bad := "```sh\n" +
		"go run ./examples/shop -public-url https://shop.example.com bot webhook sett\n" +
		"go run ./examples/shop -no-such-flag 1\n" +
		"go run ./examples/shop -public-url https://shop.example.com -bot-updates hooks\n" +
		"go run ./examples/shop -owner-chat chat-of-owners\n" +
		"go run ./examples/shop -public-url https://shop.example.com schedule run no_such_task\n" +
		"go run ./examples/shop $FLAGS\n" +
		"```\n\n```text\ngo run ./examples/shop migrate status\n```\n"
	cmds, problems := guideCommands(bad)
	if len(cmds) != 5 || len(problems) != 2 {
		t.Fatalf("%d commands and problems %v, want 5 and 2", len(cmds), problems)
	}
	g := newGuideRunner(t, migrator.SQLite)
	for _, c := range cmds {
		if err := g.check(c); err == nil {
			t.Errorf("%s passed", c)
		}
	}
	// And the good ones pass, with an export and a continued line.
	good := "```console\n$ export TELECART_PUBLIC_URL=https://shop.example.com\n" +
		"$ go run ./examples/shop \\\n   bot menu-button set # the button\n```\n"
	cmds, problems = guideCommands(good)
	if len(cmds) != 1 || len(problems) != 0 {
		t.Fatalf("%d commands and problems %v", len(cmds), problems)
	}
	if err := g.check(cmds[0]); err != nil {
		t.Errorf("%s: %v", cmds[0], err)
	}
}

// Ensure the guide links only inside the repository, to files and headings
// that exist, and that any URL it shows is an example address.
func TestGuideLinks(t *testing.T) {
	for _, p := range guideLinkProblems(readGuide(t), filepath.Dir(guidePath)) {
		t.Error(p)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "](docs/botfather-guide.md)") {
		t.Error("README's documentation list does not link the guide")
	}
}

// Ensure the link check fails on links out of the repository, to missing
// files or headings, and on real-looking URLs.
func TestGuideLinksCatchProblems(t *testing.T) {
	bad := []string{
		"See [the site](https://github.com/telecart-go/telecart).",
		"See [it](//cdn.example.com/x).",
		"See <https://core.telegram.org/bots>.",
		"See [missing](no-such-file.md).",
		"See [a heading](operators-guide.md#no-such-heading).",
		"See [here](#nowhere).",
		"```sh\ncurl https://api.telegram.org/bot1/getMe\n```",
	}
	for _, b := range bad {
		if len(guideLinkProblems(b+"\n\n# Top\n", filepath.Dir(guidePath))) == 0 {
			t.Errorf("no problem found in %q", b)
		}
	}
	good := "# Top\n\n[up](#top) [ops](operators-guide.md#the-bot) [readme](../README.md) " +
		"`https://shop.example.com/app/` http://127.0.0.1:8080 `http://{addr}`\n"
	if p := guideLinkProblems(good, filepath.Dir(guidePath)); len(p) != 0 {
		t.Errorf("problems in a good text: %v", p)
	}
}

var (
	inlineLink = regexp.MustCompile(`\]\(([^)\s]*)(?:\s+"[^"]*")?\)`)
	refLink    = regexp.MustCompile(`(?m)^\s*\[[^\]]+\]:\s*(\S+)`)
	autoLink   = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>`)
	hrefAttr   = regexp.MustCompile(`(?i)(?:href|src)\s*=\s*["']([^"']*)["']`)
	hasScheme  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	anyURL     = regexp.MustCompile("https?://([^/\\s\"'<>)\\]`:]+)")
	exampleHst = regexp.MustCompile(`^([a-z0-9-]+\.)*example\.(com|org|net)$|^127\.0\.0\.1$|^localhost$|^\{[a-z-]+\}$`)
	codeSpan   = regexp.MustCompile("`[^`\n]*`")
)

// guideLinkProblems lists what is wrong with a markdown text's links (dir is
// the text's directory) and URLs.
func guideLinkProblems(text, dir string) []error {
	var problems []error
	for _, m := range anyURL.FindAllStringSubmatch(text, -1) {
		if !exampleHst.MatchString(m[1]) {
			problems = append(problems, fmt.Errorf("%s: not an example address (example.com/org, 127.0.0.1)", m[0]))
		}
	}
	prose := codeSpan.ReplaceAllString(stripFences(text), "")
	var targets []string
	for _, re := range []*regexp.Regexp{inlineLink, refLink, autoLink, hrefAttr} {
		for _, m := range re.FindAllStringSubmatch(prose, -1) {
			targets = append(targets, m[1])
		}
	}
	for _, target := range targets {
		if hasScheme.MatchString(target) || strings.HasPrefix(target, "//") {
			problems = append(problems, fmt.Errorf("link %q leaves the repository", target))
			continue
		}
		file, anchor, _ := strings.Cut(target, "#")
		headed := text
		if file != "" {
			path := filepath.Join(dir, filepath.FromSlash(file))
			b, err := os.ReadFile(path)
			if err != nil {
				if fi, serr := os.Stat(path); serr == nil && fi.IsDir() && anchor == "" {
					continue
				}
				problems = append(problems, fmt.Errorf("link %q: %v", target, err))
				continue
			}
			headed = string(b)
		}
		if anchor != "" && !slices.Contains(headingSlugs(headed), anchor) {
			problems = append(problems, fmt.Errorf("link %q: no such heading", target))
		}
	}
	return problems
}

// stripFences drops fenced code blocks, which hold no links.
func stripFences(text string) string {
	var b strings.Builder
	in := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// headingSlugs are the anchors of a markdown text's headings, made as the
// repository's host makes them: lower case, punctuation dropped, spaces to
// hyphens, "-1", "-2"… after repeats.
func headingSlugs(text string) []string {
	var slugs []string
	seen := map[string]int{}
	for _, l := range strings.Split(stripFences(text), "\n") {
		if !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		s := b.String()
		if n := seen[s]; n > 0 {
			slugs = append(slugs, fmt.Sprintf("%s-%d", s, n))
		} else {
			slugs = append(slugs, s)
		}
		seen[s]++
	}
	return slugs
}
