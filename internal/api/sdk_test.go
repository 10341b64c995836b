package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"docstream/internal/sitetest"
)

// sdkVersion is the frappe-js-sdk release the site must work with unchanged.
const sdkVersion = "1.14.1"

// installSDK installs frappe-js-sdk with npm into a cache folder
// (os.UserCacheDir()/docstream-npm/frappe-js-sdk@<version>) once, and returns
// the package folder. It skips the test when npm or node is missing or the
// install fails (no network).
func installSDK(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("frappe-js-sdk test skipped: %s is not on PATH (install Node.js and npm to run it)", tool)
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	root := filepath.Join(cache, "docstream-npm", "frappe-js-sdk@"+sdkVersion)
	pkg := filepath.Join(root, "node_modules", "frappe-js-sdk")
	if installedVersion(pkg) == sdkVersion {
		return pkg
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		t.Skipf("frappe-js-sdk test skipped: cannot create the npm cache: %v", err)
	}
	// Install into a fresh folder and move it into place, so concurrent test
	// processes never see a half-installed package.
	tmp, err := os.MkdirTemp(filepath.Dir(root), "install-")
	if err != nil {
		t.Skipf("frappe-js-sdk test skipped: %v", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--no-save", "--loglevel=error",
		"--prefix", tmp, "frappe-js-sdk@"+sdkVersion)
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Skipf("frappe-js-sdk test skipped: `npm install frappe-js-sdk@%s` failed (no network?): %v\n%s", sdkVersion, err, out.String())
	}
	if v := installedVersion(filepath.Join(tmp, "node_modules", "frappe-js-sdk")); v != sdkVersion {
		t.Fatalf("npm installed frappe-js-sdk %q, want %s", v, sdkVersion)
	}
	if err := os.Rename(tmp, root); err != nil && installedVersion(pkg) != sdkVersion {
		t.Fatalf("move the SDK into the cache: %v", err)
	}
	if installedVersion(pkg) != sdkVersion {
		t.Fatalf("frappe-js-sdk not found in %s after install", pkg)
	}
	return pkg
}

func installedVersion(pkg string) string {
	b, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}

// TestFrappeJSSDK drives a real site with the real frappe-js-sdk from Node:
// password login (session cookie), token auth, getDoc, getDocList with
// filters, createDoc, updateDoc, deleteDoc, getCount, getValue, call().get
// and call().post. Any failed SDK call fails the test.
func TestFrappeJSSDK(t *testing.T) {
	t.Parallel()
	pkg := installSDK(t)
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := sitetest.NewSite(t, opts)
		c := s.Admin()
		c.MustCreateDocType(t, `{"name": "SDK Note", "autoname": "Prompt", "fields": [
			{"fieldname": "title", "label": "Title", "fieldtype": "Data", "reqd": 1},
			{"fieldname": "qty", "label": "Qty", "fieldtype": "Int"},
			{"fieldname": "status", "label": "Status", "fieldtype": "Select", "options": "Open\nClosed"}],
			"permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]}`)
		for i := 1; i <= 5; i++ {
			status := "Open"
			if i%2 == 0 {
				status = "Closed"
			}
			c.MustInsert(t, "SDK Note", map[string]any{"name": fmt.Sprintf("note/%d", i), "title": fmt.Sprintf("Note %d", i), "qty": i, "status": status})
		}
		script := filepath.Join(t.TempDir(), "sdk_test.cjs")
		if err := os.WriteFile(script, []byte(sdkScript), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", script)
		cmd.Env = append(os.Environ(), "SDK_PATH="+pkg, "SITE_URL="+s.URL, "SITE_USER=Administrator",
			"SITE_PASSWORD="+sitetest.AdminPassword, "SITE_TOKEN="+s.APIKey+":"+s.APISecret)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		t.Logf("node output:\n%s", out.String())
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("the SDK script failed (exit %d)", exit.ExitCode())
		} else if err != nil {
			t.Fatalf("run node: %v", err)
		}
		if !strings.Contains(out.String(), "ALL SDK CHECKS PASSED") {
			t.Fatalf("the SDK script did not finish")
		}
	})
}

// sdkScript is CommonJS run by node; it exits non-zero on the first failure.
const sdkScript = `
'use strict';
const assert = require('node:assert/strict');
const { FrappeApp } = require(process.env.SDK_PATH);
const url = process.env.SITE_URL;

function step(name, fn) { return fn().then(v => { console.log('ok   ' + name); return v; }, e => {
	const detail = e && (e.httpStatus !== undefined) ? JSON.stringify({httpStatus: e.httpStatus, exception: e.exception, message: e.message, exc_type: e.exc_type}) : (e && e.stack || String(e));
	console.log('FAIL ' + name + ': ' + detail);
	throw e;
}); }

async function main() {
	// Session login: axios in Node keeps no cookies, so carry the sid the way a browser would.
	const app = new FrappeApp(url);
	let cookie = '';
	app.axios.interceptors.response.use(res => {
		const sc = res.headers['set-cookie'];
		if (sc) for (const c of sc) if (c.startsWith('sid=')) cookie = c.split(';')[0];
		return res;
	});
	app.axios.interceptors.request.use(cfg => { if (cookie) cfg.headers.Cookie = cookie; return cfg; });

	const auth = app.auth();
	const login = await step('login', () => auth.loginWithUsernamePassword({ username: process.env.SITE_USER, password: process.env.SITE_PASSWORD }));
	assert.equal(login.message, 'Logged In');
	assert.ok(cookie.startsWith('sid='), 'login set a sid cookie');
	assert.equal(await step('getLoggedInUser', () => auth.getLoggedInUser()), 'Administrator');

	const db = app.db();
	const doc = await step('getDoc (name with a slash)', () => db.getDoc('SDK Note', 'note/3'));
	assert.equal(doc.name, 'note/3');
	assert.equal(doc.qty, 3);
	assert.equal(doc.doctype, 'SDK Note');

	const list = await step('getDocList with filters', () => db.getDocList('SDK Note', {
		fields: ['name', 'qty', 'status'], filters: [['status', '=', 'Open'], ['qty', '>', 1]],
		orderBy: { field: 'qty', order: 'desc' }, limit: 10 }));
	assert.deepEqual(list.map(d => d.name), ['note/5', 'note/3']);
	const orList = await step('getDocList with orFilters', () => db.getDocList('SDK Note', {
		fields: ['name'], orFilters: [['qty', '=', 1], ['qty', '=', 2]], orderBy: { field: 'name' } }));
	assert.deepEqual(orList.map(d => d.name), ['note/1', 'note/2']);
	const defList = await step('getDocList defaults', () => db.getDocList('SDK Note'));
	assert.equal(defList.length, 5);
	const page = await step('getDocList paging', () => db.getDocList('SDK Note', { fields: ['name'], orderBy: { field: 'qty', order: 'asc' }, limit_start: 1, limit: 2 }));
	assert.deepEqual(page.map(d => d.name), ['note/2', 'note/3']);

	const created = await step('createDoc', () => db.createDoc('SDK Note', { name: 'http://x.example:8000', title: 'Created', qty: '7' }));
	assert.equal(created.name, 'http://x.example:8000');
	assert.equal(created.qty, 7);
	assert.equal(created.status, 'Open');

	const updated = await step('updateDoc', () => db.updateDoc('SDK Note', created.name, { status: 'Closed', qty: 8 }));
	assert.equal(updated.status, 'Closed');
	assert.equal(updated.qty, 8);
	assert.equal(updated.title, 'Created');

	assert.equal(await step('getCount', () => db.getCount('SDK Note')), 6);
	assert.equal(await step('getCount with filters', () => db.getCount('SDK Note', [['status', '=', 'Closed']])), 3);

	const value = await step('getValue', () => db.getValue('SDK Note', 'qty', [['name', '=', 'note/4']]));
	assert.deepEqual(value.message, { qty: 4 });

	const del = await step('deleteDoc', () => db.deleteDoc('SDK Note', created.name));
	assert.equal(del.data, 'ok');
	assert.equal(await step('getCount after delete', () => db.getCount('SDK Note')), 5);

	// Errors reach the SDK with Frappe's status and exc_type.
	await assert.rejects(db.getDoc('SDK Note', 'missing'), e => e.httpStatus === 404 && e.exc_type === 'DoesNotExistError');
	await assert.rejects(db.createDoc('SDK Note', { name: 'bad' }), e => e.httpStatus === 417 && e.exc_type === 'MandatoryError');
	console.log('ok   errors carry httpStatus and exc_type');

	const call = app.call();
	const got = await step('call().get', () => call.get('frappe.client.get_value', { doctype: 'SDK Note', fieldname: ['title', 'qty'], filters: { name: 'note/2' } }));
	assert.deepEqual(got.message, { title: 'Note 2', qty: 2 });
	const posted = await step('call().post', () => call.post('frappe.client.set_value', { doctype: 'SDK Note', name: 'note/2', fieldname: 'title', value: 'Posted' }));
	assert.equal(posted.message.title, 'Posted');
	const who = await step('call().get logged user', () => call.get('frappe.auth.get_logged_user'));
	assert.equal(who.message, 'Administrator');

	await step('logout', () => auth.logout());
	await assert.rejects(auth.getLoggedInUser(), e => e.httpStatus === 403);
	console.log('ok   logged out');

	// API key auth, as an integration would use it.
	const tokenApp = new FrappeApp(url, { useToken: true, type: 'token', token: () => process.env.SITE_TOKEN });
	const tdoc = await step('getDoc with token auth', () => tokenApp.db().getDoc('SDK Note', 'note/1'));
	assert.equal(tdoc.title, 'Note 1');
	const bad = new FrappeApp(url, { useToken: true, type: 'token', token: () => 'nokey:nosecret' });
	await assert.rejects(bad.db().getDoc('SDK Note', 'note/1'), e => e.httpStatus === 401);
	console.log('ok   wrong key is 401');

	console.log('ALL SDK CHECKS PASSED');
}

main().catch(() => process.exit(1));
`
