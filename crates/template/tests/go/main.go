// Renders every corpus template with Go's real text/template, for tocsin's differential test.
// Standard library only: the types and functions imitate Alertmanager's template package.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

type Pair struct{ Name, Value string }
type Pairs []Pair

func (ps Pairs) Names() []string {
	ns := make([]string, 0, len(ps))
	for _, p := range ps {
		ns = append(ns, p.Name)
	}
	return ns
}
func (ps Pairs) Values() []string {
	vs := make([]string, 0, len(ps))
	for _, p := range ps {
		vs = append(vs, p.Value)
	}
	return vs
}
func (ps Pairs) String() string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, p.Name+"="+p.Value)
	}
	return strings.Join(parts, ", ")
}

type KV map[string]string

func (kv KV) SortedPairs() Pairs {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := kv["alertname"]; ok {
		keys = append([]string{"alertname"}, keys...)
	}
	ps := make(Pairs, 0, len(keys))
	for _, k := range keys {
		ps = append(ps, Pair{k, kv[k]})
	}
	return ps
}
func (kv KV) Remove(keys []string) KV {
	res := KV{}
	for k, v := range kv {
		drop := false
		for _, x := range keys {
			if x == k {
				drop = true
			}
		}
		if !drop {
			res[k] = v
		}
	}
	return res
}
func (kv KV) Names() []string  { return kv.SortedPairs().Names() }
func (kv KV) Values() []string { return kv.SortedPairs().Values() }
func (kv KV) String() string   { return kv.SortedPairs().String() }

type Alert struct {
	Status       string    `json:"status"`
	Labels       KV        `json:"labels"`
	Annotations  KV        `json:"annotations"`
	StartsAt     time.Time `json:"startsAt"`
	EndsAt       time.Time `json:"endsAt"`
	GeneratorURL string    `json:"generatorURL"`
	Fingerprint  string    `json:"fingerprint"`
}
type Alerts []Alert

func (as Alerts) Firing() []Alert   { return as.with("firing") }
func (as Alerts) Resolved() []Alert { return as.with("resolved") }
func (as Alerts) with(s string) []Alert {
	res := []Alert{}
	for _, a := range as {
		if a.Status == s {
			res = append(res, a)
		}
	}
	return res
}

type Data struct {
	Receiver          string `json:"receiver"`
	Status            string `json:"status"`
	Alerts            Alerts `json:"alerts"`
	GroupLabels       KV     `json:"groupLabels"`
	CommonLabels      KV     `json:"commonLabels"`
	CommonAnnotations KV     `json:"commonAnnotations"`
	ExternalURL       string `json:"externalURL"`
}

func humanizeDuration(i interface{}) (string, error) {
	var v float64
	switch x := i.(type) {
	case float64:
		v = x
	case int:
		v = float64(x)
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return "", err
		}
		v = f
	default:
		return "", fmt.Errorf("can't convert %T to float", i)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	if v == 0 {
		return fmt.Sprintf("%.4gs", v), nil
	}
	if math.Abs(v) >= 1 {
		sign := ""
		if v < 0 {
			sign = "-"
			v = -v
		}
		d := int64(v)
		s, m, h, days := d%60, (d/60)%60, (d/60/60)%24, d/60/60/24
		if days != 0 {
			return fmt.Sprintf("%s%dd %dh %dm %ds", sign, days, h, m, s), nil
		}
		if h != 0 {
			return fmt.Sprintf("%s%dh %dm %ds", sign, h, m, s), nil
		}
		if m != 0 {
			return fmt.Sprintf("%s%dm %ds", sign, m, s), nil
		}
		return fmt.Sprintf("%s%.4gs", sign, v), nil
	}
	prefix := ""
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix = p
		v *= 1000
	}
	return fmt.Sprintf("%.4g%ss", v, prefix), nil
}

var funcs = template.FuncMap{
	"toUpper":   strings.ToUpper,
	"toLower":   strings.ToLower,
	"title":     strings.Title, // Alertmanager uses x/text cases.Title; the corpus only titles lower-case words
	"trimSpace": strings.TrimSpace,
	"join":      func(sep string, s []string) string { return strings.Join(s, sep) },
	"match":     regexp.MatchString,
	"safeHtml":  func(text string) string { return text },
	"reReplaceAll": func(pattern, repl, text string) string {
		return regexp.MustCompile(pattern).ReplaceAllString(text, repl)
	},
	"stringSlice": func(s ...string) []string { return s },
	"date":        func(layout string, t time.Time) string { return t.Format(layout) },
	"tz": func(name string, t time.Time) (time.Time, error) {
		loc, err := time.LoadLocation(name)
		if err != nil {
			return time.Time{}, err
		}
		return t.In(loc), nil
	},
	"humanizeDuration": humanizeDuration,
	"since":            func(t time.Time) time.Duration { return 0 },
}

func main() {
	defaults, err := os.ReadFile(os.Args[1])
	check(err)
	raw, err := os.ReadFile(os.Args[3])
	check(err)
	var datasets map[string]*Data
	check(json.Unmarshal(raw, &datasets))
	base := template.Must(template.New("").Option("missingkey=zero").Funcs(funcs).Parse(string(defaults)))
	files, err := filepath.Glob(filepath.Join(os.Args[2], "*.tmpl"))
	check(err)
	results := map[string]string{}
	for _, f := range files {
		text, err := os.ReadFile(f)
		check(err)
		name := filepath.Base(f)
		for dsName, data := range datasets {
			key := name + "/" + dsName
			t := template.Must(base.Clone())
			t, err = t.New(name).Parse(string(text))
			if err != nil {
				results[key] = "ERROR: " + err.Error()
				continue
			}
			var buf bytes.Buffer
			if err := t.Execute(&buf, data); err != nil {
				results[key] = "ERROR: " + err.Error()
				continue
			}
			results[key] = buf.String()
		}
	}
	_ = url.QueryEscape
	out, err := json.Marshal(results)
	check(err)
	os.Stdout.Write(out)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
