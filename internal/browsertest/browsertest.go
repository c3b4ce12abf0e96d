// Package browsertest runs browser tests in a real headless Chromium through
// chromedp. Tests skip, saying how to enable them, unless
// TELECART_TEST_CHROME names the browser (CI sets /usr/bin/chromium and
// TELECART_TEST_REQUIRE=chrome, which turns the skip into a failure).
// TELECART_SCREENSHOTS=DIR saves a PNG of each page a test names.
package browsertest

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/telecart-go/telecart/internal/testenv"
)

// Variables read by this package.
const (
	ChromeVar      = "TELECART_TEST_CHROME"
	ScreenshotsVar = "TELECART_SCREENSHOTS"
)

// New starts a headless Chromium for the test and returns a chromedp
// context bounded by timeout; everything is closed when the test ends.
func New(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	path := testenv.Lookup(tb, ChromeVar, "chrome",
		"Set it to a Chromium binary, e.g. "+ChromeVar+"=/usr/bin/chromium (apt-get install chromium).")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(420, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(tb.Logf))
	// Start the browser now, without a timeout (a timeout on the first run
	// would bound the browser's life), so a broken binary fails here.
	if err := chromedp.Do(browserCtx); err != nil {
		cancelCtx()
		cancelAlloc()
		tb.Fatalf("starting Chromium %s: %v", path, err)
	}
	ctx, cancelTimeout := context.WithTimeout(browserCtx, timeout)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Screenshot saves a full-page PNG named after the test and name when
// TELECART_SCREENSHOTS is set; otherwise it does nothing.
func Screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	dir := os.Getenv(ScreenshotsVar)
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Errorf("screenshot %s: %v", name, err)
		return
	}
	file := filepath.Join(dir, unsafeName.ReplaceAllString(tb.Name()+"_"+name, "_")+".png")
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		tb.Errorf("screenshot %s: %v", name, err)
	}
}

// ScreenshotAs saves a PNG of the viewport as DIR/name.png when
// TELECART_SCREENSHOTS is set, under exactly that name (no test prefix),
// for pictures kept in the repository, such as docs/images. It re-encodes
// the PNG at the best compression, as they are committed.
func ScreenshotAs(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	dir := os.Getenv(ScreenshotsVar)
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		buf, err = recompress(buf)
	}
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, unsafeName.ReplaceAllString(name, "_")+".png"), buf, 0o644)
	}
	if err != nil {
		tb.Errorf("screenshot %s: %v", name, err)
	}
}

func recompress(b []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
