package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telecart-go/telecart/internal/httpx"
	"github.com/telecart-go/telecart/tcerr"
)

// ImagesPath is the route prefix of the product images: the host mounts
// ImagesHandler there, and Catalog links images as
// {ImageBase}/demo/images/{id}.png?w={width}&h={height}.
const ImagesPath = "/demo/images/"

// Image sizes the handler serves, in pixels per side.
const (
	ImageSizeMin     = 16
	ImageSizeMax     = 1200
	ImageSizeDefault = 400 // when w or h is left out
)

// imageCacheEntries bounds the encoded images kept in memory. The storefront
// asks for one size per aspect ratio, so a few entries per product suffice;
// a gradient PNG is a few kilobytes.
const imageCacheEntries = 256

// ImagesHandler returns the handler of the product images, mounted at
// ImagesPath (with or without http.StripPrefix). It answers GET
// /demo/images/{id}.png?w=&h= with a generated PNG of exactly w×h pixels:
// a gradient in colours derived from the id and a simple shape, cacheable
// for a day. An unknown id is 404; a w or h that is not a whole number in
// ImageSizeMin..ImageSizeMax is 400. Each handler keeps its own cache.
func ImagesHandler() http.Handler {
	return &imagesHandler{cache: map[imageKey][]byte{}}
}

type imageKey struct {
	id   string
	w, h int
}

type imagesHandler struct {
	mu    sync.Mutex
	cache map[imageKey][]byte
}

// ServeHTTP serves GET and HEAD /demo/images/{id}.png.
func (h *imagesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpx.WriteError(w, r, nil, tcerr.Errorf(tcerr.MethodNotAllowed, "method_not_allowed", "use GET"))
		return
	}
	name := strings.TrimPrefix(r.URL.Path, ImagesPath)
	id, ok := strings.CutSuffix(name, ".png")
	if _, known := productIndex(id); !ok || !known {
		httpx.WriteError(w, r, nil, tcerr.NotFoundf("no image %q", name))
		return
	}
	q := r.URL.Query()
	width, err := imageSide(q, "w")
	if err != nil {
		httpx.WriteError(w, r, nil, err)
		return
	}
	height, err := imageSide(q, "h")
	if err != nil {
		httpx.WriteError(w, r, nil, err)
		return
	}
	key := imageKey{id: id, w: width, h: height}
	b := h.encoded(key)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The picture depends only on the key, so the key is a strong validator.
	w.Header().Set("ETag", `"`+id+"-"+strconv.Itoa(width)+"x"+strconv.Itoa(height)+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func imageSide(q map[string][]string, name string) (int, error) {
	vs, ok := q[name]
	if !ok {
		return ImageSizeDefault, nil
	}
	n, err := strconv.Atoi(vs[0])
	if err != nil || len(vs) > 1 || n < ImageSizeMin || n > ImageSizeMax {
		return 0, tcerr.Invalidf("%s must be a whole number of pixels from %d to %d", name, ImageSizeMin, ImageSizeMax)
	}
	return n, nil
}

// encoded returns the PNG for key from the cache, generating it on a miss.
// Two concurrent misses may both generate; the result is the same.
func (h *imagesHandler) encoded(key imageKey) []byte {
	h.mu.Lock()
	b, ok := h.cache[key]
	h.mu.Unlock()
	if ok {
		return b
	}
	b = renderPNG(key.id, key.w, key.h)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.cache) >= imageCacheEntries {
		// Evict an arbitrary entry: the demo needs a bound, not an LRU.
		for k := range h.cache {
			delete(h.cache, k)
			break
		}
	}
	h.cache[key] = b
	return b
}

// gradientSteps is the number of bands of the background; with a palette
// image, PNG encodes them in a few kilobytes whatever the size.
const gradientSteps = 64

// renderPNG draws the picture of product id at w×h: a vertical gradient
// between two colours picked by the product's position, with a light circle,
// square or diamond of the complementary hue in the middle.
func renderPNG(id string, w, h int) []byte {
	// Hues step by the golden ratio along the catalog, so neighbouring
	// products never look alike; the shape cycles too.
	i, _ := productIndex(id)
	hue := math.Mod(0.55+float64(i)*0.6180339887, 1)
	kind := i % 3
	top := hsv(hue, 0.45, 0.95)
	bottom := hsv(math.Mod(hue+0.08, 1), 0.65, 0.70)
	shape := hsv(math.Mod(hue+0.5, 1), 0.25, 1)

	pal := make(color.Palette, 0, gradientSteps+1)
	for i := range gradientSteps {
		t := float64(i) / (gradientSteps - 1)
		pal = append(pal, color.RGBA{lerp(top.R, bottom.R, t), lerp(top.G, bottom.G, t), lerp(top.B, bottom.B, t), 255})
	}
	pal = append(pal, shape)
	shapeIndex := uint8(gradientSteps)

	img := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	cx, cy := float64(w)/2, float64(h)/2
	r := float64(min(w, h)) * 0.28
	for y := range h {
		band := uint8(y * (gradientSteps - 1) / max(h-1, 1))
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		dy := math.Abs(float64(y) + 0.5 - cy)
		for x := range row {
			dx := math.Abs(float64(x) + 0.5 - cx)
			var in bool
			switch kind {
			case 0:
				in = dx*dx+dy*dy <= r*r
			case 1:
				in = dx <= r*0.85 && dy <= r*0.85
			default:
				in = dx+dy <= r*1.15
			}
			if in {
				row[x] = shapeIndex
			} else {
				row[x] = band
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		// Encoding an in-memory image to a bytes.Buffer cannot fail.
		panic("demo: encoding PNG: " + err.Error())
	}
	return buf.Bytes()
}

func lerp(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a) + (float64(b)-float64(a))*t))
}

// hsv converts a colour from hue, saturation and value, each in [0, 1].
func hsv(h, s, v float64) color.RGBA {
	i := math.Floor(h * 6)
	f := h*6 - i
	p, q, t := v*(1-s), v*(1-f*s), v*(1-(1-f)*s)
	var r, g, b float64
	switch int(i) % 6 {
	case 0:
		r, g, b = v, t, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, t
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = t, p, v
	default:
		r, g, b = v, p, q
	}
	return color.RGBA{uint8(math.Round(r * 255)), uint8(math.Round(g * 255)), uint8(math.Round(b * 255)), 255}
}
