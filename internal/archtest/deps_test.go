package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// listedPackage is what the rules need of one package of go list -json.
type listedPackage struct {
	ImportPath string
	Imports    []string
	ForTest    string
	DepOnly    bool // not one of the packages asked for, only a dependency
}

const prometheusPrefix = "github.com/prometheus/"

// basePath is a package's import path without the " [p.test]" of a variant
// compiled for a test.
func basePath(id string) string {
	if i := strings.IndexByte(id, ' '); i >= 0 {
		return id[:i]
	}
	return id
}

// isTestBuild reports whether id exists only for a test: a variant
// recompiled for one, an external _test package, or a test main.
func isTestBuild(p listedPackage) bool {
	return p.ForTest != "" || strings.Contains(p.ImportPath, " [") || strings.HasSuffix(p.ImportPath, ".test")
}

func within(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }

// chains returns, for each package for which is reports true that one of
// from reaches through Imports, a shortest import chain to it. It does not
// look past such a package: what it imports is its own business.
func chains(graph map[string]listedPackage, from []string, is func(string) bool) [][]string {
	var found [][]string
	parent := map[string]string{}
	queue := []string{}
	for _, id := range from {
		if _, seen := parent[id]; !seen {
			parent[id] = ""
			queue = append(queue, id)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if is(id) {
			var c []string
			for at := id; at != ""; at = parent[at] {
				c = append(c, at)
			}
			slices.Reverse(c)
			found = append(found, c)
			continue
		}
		for _, imp := range graph[id].Imports {
			if _, seen := parent[imp]; !seen {
				parent[imp] = id
				queue = append(queue, imp)
			}
		}
	}
	return found
}

// violations checks the rules of the package doc on the graph go list -deps
// -test printed for the library packages of module, and returns one line
// per broken rule naming the packages involved.
func violations(module string, pkgs []listedPackage) []string {
	graph := make(map[string]listedPackage, len(pkgs))
	var roots []string
	for _, p := range pkgs {
		graph[p.ImportPath] = p
		if !p.DepOnly {
			roots = append(roots, p.ImportPath)
		}
	}
	slices.Sort(roots)
	var out []string

	// examples/ is out of the library's graph, tests included.
	for _, c := range chains(graph, roots, func(id string) bool { return within(basePath(id), module+"/examples") }) {
		out = append(out, "imports examples/: "+strings.Join(c, " → "))
	}

	for _, id := range roots {
		p := graph[id]
		path := basePath(id)
		if strings.Contains(path, "/metrics") {
			continue
		}
		// Only a /metrics package imports Prometheus, even in a test.
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, prometheusPrefix) {
				out = append(out, fmt.Sprintf("%s imports %s; only packages whose path contains /metrics may", id, basePath(imp)))
			}
		}
		// And the library compiles without Prometheus: no package outside
		// /metrics depends on one that imports it (a test may).
		if isTestBuild(p) {
			continue
		}
		for _, c := range chains(graph, []string{id}, func(dep string) bool { return strings.HasPrefix(dep, prometheusPrefix) }) {
			if len(c) > 2 { // a direct import is reported above
				out = append(out, "depends on Prometheus: "+strings.Join(c, " → ")+"; a host without Prometheus would compile it")
				break
			}
		}
	}
	return out
}

// goList runs go list with args in dir and returns its output.
func goList(tb testing.TB, dir string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// noteSources stats every Go file and go.mod under root. The go command
// this test runs reads them in another process, which go test's result
// cache does not see; files this process stats (and directories it lists)
// are part of the cache key, so an edited import runs the test again.
func noteSources(tb testing.TB, root string) {
	tb.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules"):
			return filepath.SkipDir
		case !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum"):
			_, err := os.Stat(path)
			return err
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// Ensure the library's import graph, tests included, keeps the rules of the
// package doc. The go command is on PATH wherever tests run in CI; without
// it the test skips.
func TestDependencies(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("the go command is not on PATH: %v", err)
	}
	gomod := strings.TrimSpace(string(goList(t, ".", "-m", "-f", "{{.GoMod}}")))
	module := strings.TrimSpace(string(goList(t, ".", "-m", "-f", "{{.Path}}")))
	root := filepath.Dir(gomod)
	noteSources(t, root)

	// The library is every package of the module outside examples/.
	var library []string
	for _, path := range strings.Fields(string(goList(t, root, "./..."))) {
		if !within(path, module+"/examples") {
			library = append(library, path)
		}
	}
	if !slices.Contains(library, module+"/pulse") || !slices.Contains(library, module+"/pulse/pulsetest") {
		t.Fatalf("the library packages %v miss pulse or pulse/pulsetest", library)
	}

	out := goList(t, root, append([]string{"-deps", "-test", "-json=ImportPath,Imports,ForTest,DepOnly"}, library...)...)
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	for _, v := range violations(module, pkgs) {
		t.Error(v)
	}
}

// Ensure violations finds each kind of broken rule, and passes a graph that
// keeps them, so TestDependencies cannot pass by checking nothing.
func TestViolations(t *testing.T) {
	const m = "example.com/shop"
	pkg := func(id string, depOnly bool, imports ...string) listedPackage {
		p := listedPackage{ImportPath: id, Imports: imports, DepOnly: depOnly}
		if i := strings.Index(id, " ["); i >= 0 {
			p.ForTest = strings.TrimSuffix(strings.TrimSuffix(id[i+2:], "]"), ".test")
		}
		return p
	}
	prom := pkg("github.com/prometheus/client_golang/prometheus", true, "github.com/prometheus/common/expfmt")
	common := pkg("github.com/prometheus/common/expfmt", true)
	for name, tt := range map[string]struct {
		pkgs []listedPackage
		want []string // substrings, one per violation, in order
	}{
		"OK": {pkgs: []listedPackage{
			pkg(m+"/pulse", false, "fmt"),
			pkg(m+"/pulse/pulsetest", false, m+"/pulse"),
			pkg(m+"/pulse_test [example.com/shop/pulse.test]", false, m+"/pulse", m+"/pulse/pulsetest"),
			pkg(m+"/telecart", false, m+"/pulse"),
			pkg(m+"/telecart/metrics", false, m+"/telecart", prom.ImportPath),
			// A test of telecart may use the collector.
			pkg(m+"/telecart_test [example.com/shop/telecart.test]", false, m+"/telecart", m+"/telecart/metrics"),
			prom, common, pkg("fmt", true),
		}},
		"ErrExamplesFromTest": {pkgs: []listedPackage{
			pkg(m+"/pulse", false),
			pkg(m+"/pulse_test [example.com/shop/pulse.test]", false, m+"/pulse", m+"/examples/pulse-receiver/receiver"),
			pkg(m+"/examples/pulse-receiver/receiver", true, m+"/pulse"),
		}, want: []string{"imports examples/: " + m + "/pulse_test [example.com/shop/pulse.test] → " + m + "/examples/pulse-receiver/receiver"}},
		"ErrExamplesIndirect": {pkgs: []listedPackage{
			pkg(m+"/telecart", false, m+"/telecart/web"),
			pkg(m+"/telecart/web", true, m+"/examples/shop/demo"),
			pkg(m+"/examples/shop/demo", true, m+"/examples/shop/demo/assets"),
			pkg(m+"/examples/shop/demo/assets", true),
		}, want: []string{"imports examples/: " + m + "/telecart → " + m + "/telecart/web → " + m + "/examples/shop/demo"}},
		"ErrPrometheusDirect": {pkgs: []listedPackage{
			pkg(m+"/telecart", false, prom.ImportPath), prom, common,
		}, want: []string{m + "/telecart imports github.com/prometheus/client_golang/prometheus"}},
		"ErrPrometheusFromTest": {pkgs: []listedPackage{
			pkg(m+"/telecart", false),
			pkg(m+"/telecart_test [example.com/shop/telecart.test]", false, m+"/telecart", prom.ImportPath), prom, common,
		}, want: []string{m + "/telecart_test [example.com/shop/telecart.test] imports github.com/prometheus/"}},
		"ErrPrometheusThroughMetrics": {pkgs: []listedPackage{
			pkg(m+"/telecart", false, m+"/telecart/metrics"),
			pkg(m+"/telecart/metrics", false, prom.ImportPath), prom, common,
		}, want: []string{"depends on Prometheus: " + m + "/telecart → " + m + "/telecart/metrics → github.com/prometheus/"}},
	} {
		t.Run(name, func(t *testing.T) {
			got := violations(m, tt.pkgs)
			if len(got) != len(tt.want) {
				t.Fatalf("violations =\n%s\nwant %d", strings.Join(got, "\n"), len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
