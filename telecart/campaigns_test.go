package telecart_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/telecart-go/telecart/migrator"
	"github.com/telecart-go/telecart/migrator/migratortest"
	"github.com/telecart-go/telecart/telecart"
)

// startParamVectors are the independent vectors of testdata/startparam.
type startParamVectors struct {
	Valid []struct {
		Name       string            `json:"name"`
		Secret     string            `json:"secret"`
		Param      map[string]string `json:"param"`
		Canonical  string            `json:"canonical"`
		StartParam string            `json:"start_param"`
		DecodeOnly bool              `json:"decode_only"`
	} `json:"valid"`
}

// verifyStartParam decodes sp by hand, independently of package pulse,
// and checks its h with secret; it returns the canonical string.
func verifyStartParam(t *testing.T, sp, secret string) url.Values {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(sp)
	if err != nil {
		t.Fatalf("start_param %q: %v", sp, err)
	}
	vals, err := url.ParseQuery(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := vals.Get("h")
	vals.Del("h")
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(vals.Encode()))
	if want := hex.EncodeToString(m.Sum(nil)[:6]); h != want {
		t.Fatalf("start_param %q: h = %q, want %q", sp, h, want)
	}
	return vals
}

func withCampaignSettings(cfg *telecart.Config) {
	cfg.Settings.BotUsername = "telecart_shop_bot"
}

// Ensure campaigns made through the admin API give the links of the
// independent vectors, signed with the shop's secret; a link too long for
// Telegram is refused with 422.
func TestCampaignLinksMatchVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "startparam", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vecs startParamVectors
	if err := json.Unmarshal(raw, &vecs); err != nil {
		t.Fatal(err)
	}
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, withCampaignSettings)
		ctx := context.Background()
		checked := 0
		for _, v := range vecs.Valid {
			if v.Secret == "" || v.DecodeOnly || v.Param["t"] != "" {
				continue // campaign links are signed and carry no tracking id
			}
			st, err := s.tc.Settings().Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st.StartParamSecret = v.Secret
			if _, err := s.tc.Settings().Update(ctx, st); err != nil {
				t.Fatal(err)
			}
			body := map[string]any{"id": v.Param["c"], "name": v.Name, "source": v.Param["s"], "medium": v.Param["m"]}
			if len(v.StartParam) > 64 {
				// Ensure a link that would not fit ?start= is refused, saying why.
				status, resp := s.call(t, "POST", "/admin/api/campaigns", "", true, body)
				if status != http.StatusUnprocessableEntity || !strings.Contains(string(resp), "64") {
					t.Errorf("%s: POST = %d %s, want 422 naming the limit", v.Name, status, resp)
				}
				continue
			}
			s.must(t, "POST", "/admin/api/campaigns", "", true, body, http.StatusCreated, nil)
			var links struct{ StartParam, StartAppURL, StartURL string }
			var rawLinks map[string]string
			s.must(t, "GET", "/admin/api/campaigns/"+v.Param["c"]+"/links", "", true, nil, http.StatusOK, &rawLinks)
			links.StartParam, links.StartAppURL, links.StartURL = rawLinks["start_param"], rawLinks["startapp_url"], rawLinks["start_url"]
			if links.StartParam != v.StartParam {
				t.Errorf("%s: start_param = %q, want the vector's %q", v.Name, links.StartParam, v.StartParam)
			}
			vals := verifyStartParam(t, links.StartParam, v.Secret)
			if vals.Get("c") != v.Param["c"] {
				t.Errorf("%s: c = %q", v.Name, vals.Get("c"))
			}
			if want := "https://t.me/telecart_shop_bot?startapp=" + v.StartParam; links.StartAppURL != want {
				t.Errorf("%s: startapp_url = %q, want %q", v.Name, links.StartAppURL, want)
			}
			if want := "https://t.me/telecart_shop_bot?start=" + v.StartParam; links.StartURL != want {
				t.Errorf("%s: start_url = %q, want %q", v.Name, links.StartURL, want)
			}
			checked++
		}
		if checked < 2 {
			t.Fatalf("only %d vectors checked", checked)
		}

		// Ensure the Mini App's short name makes the direct link.
		st, _ := s.tc.Settings().Get(ctx)
		st.MiniAppShortName = "store"
		if _, err := s.tc.Settings().Update(ctx, st); err != nil {
			t.Fatal(err)
		}
		var l map[string]string
		s.must(t, "GET", "/admin/api/campaigns/a/links", "", true, nil, http.StatusOK, &l)
		if !strings.HasPrefix(l["startapp_url"], "https://t.me/telecart_shop_bot/store?startapp=") ||
			!strings.HasPrefix(l["start_url"], "https://t.me/telecart_shop_bot?start=") {
			t.Errorf("links with a short name = %v", l)
		}

		// Ensure bad campaigns are refused with the field named.
		for _, body := range []map[string]any{
			{"id": "has space", "name": "x"},
			{"id": "ok", "name": ""},
			{"id": "funnel", "name": "x"},
			{"id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "name": "x"}, // 32 characters: the bot link would not fit
			{"id": "ok", "name": "x", "source": strings.Repeat("я", 33)},
		} {
			status, resp := s.call(t, "POST", "/admin/api/campaigns", "", true, body)
			if status != http.StatusUnprocessableEntity {
				t.Errorf("POST %v = %d %s, want 422", body, status, resp)
			}
		}
		s.must(t, "POST", "/admin/api/campaigns", "", true, map[string]any{"id": "a", "name": "again"}, http.StatusConflict, nil)
		s.must(t, "GET", "/admin/api/campaigns/nope", "", true, nil, http.StatusNotFound, nil)
		s.must(t, "GET", "/admin/api/campaigns/a/qr.png?link=other", "", true, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/admin/api/campaigns/funnel?from=2026-13-01&to=2026-12-01", "", true, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/admin/api/campaigns/funnel?from=2026-12-02&to=2026-12-01", "", true, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/admin/api/campaigns/funnel?from=2025-01-01&to=2026-12-01", "", true, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/admin/api/campaigns/funnel?days=2", "", true, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/admin/api/campaigns/funnel?campaign=a.b", "", true, nil, http.StatusBadRequest, nil)
		s.must(t, "GET", "/admin/api/campaigns/funnel?campaign=", "", true, nil, http.StatusBadRequest, nil)

		// Ensure edit and archive keep the id and its links.
		var c map[string]any
		s.must(t, "PUT", "/admin/api/campaigns/a", "", true, map[string]any{"name": "Renamed", "notes": "line 1\nline 2"}, http.StatusOK, &c)
		if c["name"] != "Renamed" || c["archived"] != false {
			t.Errorf("PUT = %v", c)
		}
		s.must(t, "DELETE", "/admin/api/campaigns/a", "", true, nil, http.StatusOK, &c)
		if c["archived"] != true {
			t.Errorf("DELETE = %v", c)
		}
		s.must(t, "GET", "/admin/api/campaigns/a/links", "", true, nil, http.StatusOK, nil)
	})
}

// Ensure the QR PNG decodes back to the link, with a QR reader that shares
// nothing with the encoder; and the SVG is served.
func TestCampaignQRDecodes(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, withCampaignSettings)
		s.must(t, "POST", "/admin/api/campaigns", "", true, map[string]any{"id": "qr_test", "name": "QR", "source": "flyer"}, http.StatusCreated, nil)
		var links map[string]string
		s.must(t, "GET", "/admin/api/campaigns/qr_test/links", "", true, nil, http.StatusOK, &links)
		for _, kind := range []string{"startapp", "start"} {
			body, ctype := s.raw(t, "/admin/api/campaigns/qr_test/qr.png?link="+kind)
			if ctype != "image/png" {
				t.Fatalf("Content-Type %q", ctype)
			}
			img, err := png.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			bmp, err := gozxing.NewBinaryBitmapFromImage(img)
			if err != nil {
				t.Fatal(err)
			}
			res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
			if err != nil {
				t.Fatalf("decoding the %s QR: %v", kind, err)
			}
			if want := links[kind+"_url"]; res.GetText() != want {
				t.Errorf("QR of %s = %q, want %q", kind, res.GetText(), want)
			}
		}
		svg, ctype := s.raw(t, "/admin/api/campaigns/qr_test/qr.svg")
		if ctype != "image/svg+xml" || !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte(`<path fill="#000" d="M`)) {
			t.Errorf("SVG %q: %.200s", ctype, svg)
		}
	})
}

// Ensure a validly signed link attributes the buyer, a tampered one
// nothing, and the customer row shows the first and the newest campaign.
func TestCampaignLinkAttributes(t *testing.T) {
	migratortest.Each(t, nil, func(t *testing.T, db migrator.DB) {
		s := newPlugShopWith(t, db, withCampaignSettings)
		ctx := context.Background()
		for _, id := range []string{"first", "second"} {
			s.must(t, "POST", "/admin/api/campaigns", "", true, map[string]any{"id": id, "name": id}, http.StatusCreated, nil)
		}
		link := func(id string) string {
			var l map[string]string
			s.must(t, "GET", "/admin/api/campaigns/"+id+"/links", "", true, nil, http.StatusOK, &l)
			return l["start_param"]
		}
		open := func(user int64, sp string) {
			events := map[string]any{"events": []any{map[string]any{"id": "open-" + sp[:8], "event": "WEBAPP_OPEN"}}}
			s.must(t, "POST", "/api/ingest", s.initData(user, "Anna", sp), false, events, http.StatusOK, nil)
		}
		// Tampered: c changed, h kept.
		raw, _ := base64.RawURLEncoding.DecodeString(link("first"))
		forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "c=first", "c=forged", 1)))
		open(3001, forged)
		c, err := s.tc.Customers().GetByTelegramID(ctx, 3001)
		if err != nil {
			t.Fatal(err)
		}
		if c.FirstCampaignID != "" || c.LastCampaignID != "" {
			t.Errorf("a tampered link attributed %q/%q", c.FirstCampaignID, c.LastCampaignID)
		}
		open(3001, link("first"))
		s.clock.Advance(60e9)
		open(3001, link("second"))
		var list struct {
			Data []struct {
				TelegramUserID  int64  `json:"telegram_user_id"`
				FirstCampaignID string `json:"first_campaign_id"`
				LastCampaignID  string `json:"last_campaign_id"`
			} `json:"data"`
		}
		s.must(t, "GET", "/admin/api/customers", "", true, nil, http.StatusOK, &list)
		if len(list.Data) != 1 || list.Data[0].FirstCampaignID != "first" || list.Data[0].LastCampaignID != "second" {
			t.Errorf("customer row = %+v, want first campaign kept and the newest shown", list.Data)
		}
		var f struct {
			Campaigns []struct {
				ID         string `json:"id"`
				Attributed int64  `json:"attributed"`
				Steps      []struct {
					Step      string `json:"step"`
					Customers int64  `json:"customers"`
				} `json:"steps"`
			} `json:"campaigns"`
		}
		s.must(t, "GET", "/admin/api/campaigns/funnel", "", true, nil, http.StatusOK, &f)
		got := map[string][2]int64{}
		for _, c := range f.Campaigns {
			got[c.ID] = [2]int64{c.Attributed, c.Steps[0].Customers}
		}
		if got["first"] != [2]int64{1, 1} || got["second"] != [2]int64{0, 1} {
			t.Errorf("funnel (attributed, opens) = %v", got)
		}
		if _, ok := got["forged"]; ok {
			t.Error("the forged campaign shows in the funnel")
		}
		// days=0 keeps the sums and drops the days; campaign= answers one.
		var lean struct {
			Campaigns []struct {
				ID    string            `json:"id"`
				Steps []json.RawMessage `json:"steps"`
				Days  []json.RawMessage `json:"days"`
			} `json:"campaigns"`
		}
		s.must(t, "GET", "/admin/api/campaigns/funnel?days=0", "", true, nil, http.StatusOK, &lean)
		if len(lean.Campaigns) != len(f.Campaigns) {
			t.Errorf("days=0: %d campaigns, want %d", len(lean.Campaigns), len(f.Campaigns))
		}
		for _, c := range lean.Campaigns {
			if len(c.Days) != 0 || len(c.Steps) != 5 {
				t.Errorf("days=0: campaign %s has %d days and %d steps", c.ID, len(c.Days), len(c.Steps))
			}
		}
		s.must(t, "GET", "/admin/api/campaigns/funnel?campaign=second", "", true, nil, http.StatusOK, &lean)
		if len(lean.Campaigns) != 1 || lean.Campaigns[0].ID != "second" || len(lean.Campaigns[0].Days) != 1 {
			t.Errorf("campaign=second: %+v", lean.Campaigns)
		}
		csv, ctype := s.raw(t, "/admin/api/campaigns/funnel.csv")
		if !strings.HasPrefix(ctype, "text/csv") || !bytes.Contains(csv, []byte("\nsecond,second,false,")) {
			t.Errorf("CSV %q: %s", ctype, csv)
		}
	})
}

// raw GETs an admin path that answers something other than JSON.
func (s *plugShop) raw(tb testing.TB, path string) ([]byte, string) {
	tb.Helper()
	req, err := http.NewRequest("GET", s.server.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+plugAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s = %d: %s", path, resp.StatusCode, body)
	}
	return body, resp.Header.Get("Content-Type")
}
