package pulse

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"

	"github.com/boombuler/barcode/qr"
)

// QR code rendering of campaign links. The encoder is boombuler/barcode's:
// no dependencies of its own, tests for every stage of the encoding, years
// of use in one-time-password libraries.
const (
	// qrModulePx is the size of one module in the PNG: a 33-module code
	// (a typical link) with its margin comes to 328 px, crisp in print.
	qrModulePx = 8
	// qrQuietZone is the margin in modules that readers need (ISO/IEC
	// 18004 asks for 4).
	qrQuietZone = 4
)

// qrModules encodes text at error correction level M (15 %: survives a
// smudged print without growing the code much).
func qrModules(text string) (size int, dark func(x, y int) bool, err error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return 0, nil, fmt.Errorf("pulse: encoding the QR code: %w", err)
	}
	b := code.Bounds()
	return b.Dx(), func(x, y int) bool {
		r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return r < 0x8000
	}, nil
}

// QRPNG returns a PNG of text's QR code, black on white with the margin.
func QRPNG(text string) ([]byte, error) {
	n, dark, err := qrModules(text)
	if err != nil {
		return nil, err
	}
	side := (n + 2*qrQuietZone) * qrModulePx
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y := range n {
		for x := range n {
			if !dark(x, y) {
				continue
			}
			x0, y0 := (x+qrQuietZone)*qrModulePx, (y+qrQuietZone)*qrModulePx
			for dy := range qrModulePx {
				row := img.Pix[(y0+dy)*img.Stride:]
				for dx := range qrModulePx {
					row[x0+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("pulse: writing the QR PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// QRSVG returns an SVG of text's QR code: one path of dark modules on a
// white square, in module units, so it scales to any print size.
func QRSVG(text string) ([]byte, error) {
	n, dark, err := qrModules(text)
	if err != nil {
		return nil, err
	}
	side := strconv.Itoa(n + 2*qrQuietZone)
	var path strings.Builder
	for y := range n {
		for x := 0; x < n; x++ {
			if !dark(x, y) {
				continue
			}
			run := 1
			for x+run < n && dark(x+run, y) {
				run++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x+qrQuietZone, y+qrQuietZone, run, run)
			x += run - 1
		}
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	buf.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + side + " " + side +
		`" width="` + strconv.Itoa((n+2*qrQuietZone)*qrModulePx) + `" height="` + strconv.Itoa((n+2*qrQuietZone)*qrModulePx) +
		`" shape-rendering="crispEdges">`)
	buf.WriteString(`<rect width="` + side + `" height="` + side + `" fill="#fff"/>`)
	buf.WriteString(`<path fill="#000" d="` + path.String() + `"/></svg>` + "\n")
	return buf.Bytes(), nil
}
