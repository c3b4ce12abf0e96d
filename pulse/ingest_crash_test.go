package pulse_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/pulse"
	"github.com/telecart-go/telecart/telegram"
)

// ingestCrashChildVar marks the process TestIngestAnsweredIsCommitted
// starts as its server; its value is the dialect and DSN in JSON.
const ingestCrashChildVar = "TELECART_TEST_INGEST_CRASH_CHILD"

type ingestCrashSpec struct {
	Dialect migrator.Dialect `json:"dialect"`
	DSN     string           `json:"dsn"`
}

// TestIngestCrashChild serves POST /api/ingest on the database it is given
// until it is killed. It runs only as TestIngestAnsweredIsCommitted's
// subprocess.
func TestIngestCrashChild(t *testing.T) {
	raw := os.Getenv(ingestCrashChildVar)
	if raw == "" {
		t.Skip("the server process of TestIngestAnsweredIsCommitted, which runs it with " + ingestCrashChildVar + " set; nothing to do alone")
	}
	var spec ingestCrashSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	db := migratortest.MustOpenDSN(t, spec.Dialect, spec.DSN)
	s := newIngestServerCfg(t, db, func(c *pulse.IngestConfig) { c.Rate = -1 })
	srv := httptest.NewServer(s)
	fmt.Printf("URL=%s\n", srv.URL)
	select {} // until SIGKILL
}

// TestIngestAnsweredIsCommitted proves that a 200 from ingest is never
// answered before its events are committed, group commit and all: clients
// post concurrently to a server process, which is SIGKILLed right after one
// of them hears 200; then every event of every request answered 200 must be
// in the database.
func TestIngestAnsweredIsCommitted(t *testing.T) {
	if os.Getenv(ingestCrashChildVar) != "" {
		t.Skip("running as the child")
	}
	for _, d := range migratortest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			dsn := migratortest.FreshDSN(t, d)
			db := migratortest.MustOpenDSN(t, d, dsn)
			migratortest.MustMigrate(t, db, ingestSources()...)
			links := pulse.NewStartParamSerializer("link-secret")
			link, err := links.Encode(pulse.StartParam{CampaignID: "crash", Source: "tg"})
			if err != nil {
				t.Fatal(err)
			}
			var acked []string // client ids of events in requests answered 200
			for round := range 3 {
				acked = append(acked, ingestCrashRound(t, d, dsn, link, round, 5+10*round)...)
			}
			if len(acked) == 0 {
				t.Fatal("no request was answered 200")
			}
			stored := map[string]bool{}
			rows, err := db.QueryContext(t.Context(), "SELECT idempotency_key FROM "+db.Prefix+"pulse_events")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var key string
				if err := rows.Scan(&key); err != nil {
					t.Fatal(err)
				}
				stored[key[strings.LastIndexByte(key, ':')+1:]] = true
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			missing := 0
			for _, id := range acked {
				if !stored[id] {
					missing++
				}
			}
			if missing > 0 {
				t.Fatalf("%d of %d events answered 200 are not in the database", missing, len(acked))
			}
			t.Logf("%d events answered 200 across 3 kills, all stored (%d rows in all)", len(acked), len(stored))
		})
	}
}

// ingestCrashRound starts a server process, posts to it from 8 clients,
// kills it right after the killAfter-th 200, and returns the client ids of
// the events answered 200.
func ingestCrashRound(t *testing.T, d migrator.Dialect, dsn, link string, round, killAfter int) []string {
	t.Helper()
	spec, _ := json.Marshal(ingestCrashSpec{Dialect: d, DSN: dsn})
	cmd := exec.Command(os.Args[0], "-test.run=^TestIngestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), ingestCrashChildVar+"="+string(spec))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	url := ""
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URL="); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatalf("the server process printed no URL: %s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()

	var (
		mu     sync.Mutex
		acked  []string
		oks    atomic.Int64
		killed atomic.Bool
		wg     sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			initData := telegram.SignInitData(ingestBotToken, telegram.SignParams{
				QueryID:    fmt.Sprintf("AAHcrash%d-%d", round, c),
				User:       &telegram.User{ID: int64(5_000_000 + c), FirstName: "Crash", LanguageCode: "en"},
				StartParam: link,
			}, time.Now())
			for n := 0; !killed.Load(); n++ {
				ids := make([]string, 1+n%10)
				var body strings.Builder
				body.WriteString(`{"events":[`)
				for i := range ids {
					ids[i] = "r" + strconv.Itoa(round) + "c" + strconv.Itoa(c) + "n" + strconv.Itoa(n) + "e" + strconv.Itoa(i)
					if i > 0 {
						body.WriteByte(',')
					}
					fmt.Fprintf(&body, `{"id":%q,"event":%q}`, ids[i], pulse.EventProductView)
				}
				body.WriteString(`]}`)
				req, _ := http.NewRequest(http.MethodPost, url+"/api/ingest", strings.NewReader(body.String()))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(telegram.HeaderInitData, initData)
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status %d: %s", resp.StatusCode, answer)
					return
				}
				mu.Lock()
				acked = append(acked, ids...)
				mu.Unlock()
				if oks.Add(1) == int64(killAfter) && killed.CompareAndSwap(false, true) {
					_ = cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		}()
	}
	wg.Wait()
	<-done
	if !killed.Load() {
		t.Fatalf("the server process ended before it was killed: %s", stderr.String())
	}
	return acked
}
