import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { accepts, classify, isSinkholeAddress, judgedStatus, matchSignature, POLICY_SIGNATURE } from "../src/classify.js";

const GOGUARDIAN_ID = "haldlgldplgnggkjaafhelgiaglafanh";
const SECURLY_ID = "joflmkccibkooplaeoinecjbmdebglab";
const SIGNATURES = [
  { id: "goguardian-block-host", vendor: "GoGuardian", hosts: ["blocked.goguardian.com"] },
  { id: "goguardian-extension", vendor: "GoGuardian", extension_ids: [GOGUARDIAN_ID] },
  { id: "securly-block", vendor: "Securly", hosts: ["*.securly.com"], extension_ids: [SECURLY_ID] },
  { id: "lab-block-page", vendor: "Lab Filter", urls: ["block.lab.test/blocked", "*.filter.test/deny/page"] },
  { id: "meraki-block-host", vendor: "Cisco Meraki", hosts: ["wired.meraki.com"] },
  { id: "umbrella-block-servers", vendor: "Cisco Umbrella", addresses: ["146.112.61.104/29", "::ffff:146.112.61.104/125"] },
  { id: "lab-dns-filter", vendor: "Lab DNS Filter", addresses: ["10.77.0.66"] },
];

function nav(overrides) {
  return {
    url: "https://app.vendor.example/start?x=1",
    redirects: [],
    signatures: SIGNATURES,
    extensions: [],
    expectStatus: [],
    ...overrides,
  };
}

const goguardian = { id: GOGUARDIAN_ID, name: "GoGuardian", enabled: true, filter_vendor: "GoGuardian", can_block: true };

describe("classify: where the tab landed comes first", () => {
  it("a redirect to a block host that answers 200 is a block, not reachable", () => {
    const v = classify(
      nav({
        redirects: [{ from: "https://app.vendor.example/start", status: 302, location: "https://wired.meraki.com/blocked?user=student@district.org" }],
        finalUrl: "https://wired.meraki.com/blocked?user=student@district.org",
        status: 200,
      }),
    );
    assert.equal(v.outcome, "blocked_by_filter");
    assert.equal(v.blocking_layer, "http_filter");
    assert.deepEqual(v.signature, { id: "meraki-block-host", vendor: "Cisco Meraki", matched: "wired.meraki.com" });
    assert.ok(!v.detail.includes("student"), "the query (a student's identity) is never in the detail");
  });

  it("a final URL on a block host is a block even without a server redirect", () => {
    const v = classify(nav({ finalUrl: "https://blocked.goguardian.com/#/blocked", status: 200 }));
    assert.equal(v.outcome, "blocked_by_filter");
    assert.equal(v.signature.id, "goguardian-block-host");
  });

  it("names the browser extension layer when the vendor's filter extension is enabled", () => {
    const v = classify(nav({ finalUrl: "https://blocked.goguardian.com/", status: 200, extensions: [goguardian] }));
    assert.equal(v.blocking_layer, "browser_extension");
  });

  it("names the browser extension layer when the matched signature lists extension ids", () => {
    const v = classify(nav({ finalUrl: "https://www.securly.com/blocked", status: 200 }));
    assert.equal(v.blocking_layer, "browser_extension");
    assert.equal(v.signature.matched, "*.securly.com");
  });

  it("a disabled filter extension of the vendor does not make it the browser's block", () => {
    const v = classify(nav({ finalUrl: "https://blocked.goguardian.com/", status: 200, extensions: [{ ...goguardian, enabled: false }] }));
    assert.equal(v.blocking_layer, "http_filter");
  });

  it("matches URL patterns by host and path prefix, case-insensitively, any scheme and query", () => {
    const v = classify(nav({ finalUrl: "http://BLOCK.lab.test/Blocked/category?u=1", status: 403 }));
    assert.equal(v.outcome, "blocked_by_filter");
    assert.deepEqual(v.signature, { id: "lab-block-page", vendor: "Lab Filter", matched: "block.lab.test/blocked" });
    assert.equal(classify(nav({ url: "http://block.lab.test/other", finalUrl: "http://block.lab.test/other", status: 200 })).outcome, "reachable");
  });

  it("a block signature outranks a network error that followed the redirect", () => {
    const v = classify(
      nav({
        redirects: [{ from: "https://app.vendor.example/", status: 302, location: "https://blocked.goguardian.com/" }],
        error: "net::ERR_CONNECTION_RESET",
      }),
    );
    assert.equal(v.outcome, "blocked_by_filter");
  });

  it("a tab sent to another host with no redirect was replaced by an extension, named where it is the only one that could", () => {
    const redirector = { id: "r".repeat(32), name: "Unlisted Filter", version: "3", enabled: true, can_navigate: true };
    const v = classify(nav({ url: "http://replaced.example/", finalUrl: "http://school.example/not-allowed?u=1", status: 200, extensions: [redirector] }));
    assert.deepEqual(v, {
      outcome: "blocked_by_filter",
      blocking_layer: "browser_extension",
      signature: { id: `extension:${"r".repeat(32)}`, vendor: "Unlisted Filter", matched: "the tab was sent from replaced.example to http://school.example/not-allowed with no redirect" },
      detail: `the tab was sent from replaced.example to http://school.example/not-allowed with no redirect in between: an extension replaced the navigation; enabled extensions that could have: Unlisted Filter (${"r".repeat(32)})`,
    });
    const two = classify(
      nav({ url: "http://replaced.example/", finalUrl: "http://school.example/", status: 200, extensions: [redirector, { ...redirector, id: "q".repeat(32), name: "Other", can_navigate: false, can_block: true }] }),
    );
    assert.equal(two.signature.vendor, "an extension the catalog does not list");
    assert.match(two.detail, /Unlisted Filter .*, Other /);
  });

  it("a page's own script or meta refresh, and a server redirect, are no replacement", () => {
    const client = classify(nav({ url: "http://vendor.example/", finalUrl: "http://login.vendor.example/", status: 200, clientRedirect: true }));
    assert.equal(client.outcome, "reachable");
    const server = classify(
      nav({
        url: "http://vendor.example/",
        redirects: [{ from: "http://vendor.example/", status: 302, location: "http://login.vendor.example/start" }],
        finalUrl: "http://login.vendor.example/start",
        status: 200,
      }),
    );
    assert.equal(server.outcome, "reachable");
  });

  it("the profile's own URL is not a landing", () => {
    const v = classify(
      nav({
        url: "https://wired.meraki.com/",
        redirects: [{ from: "https://wired.meraki.com/", status: 301, location: "https://app.vendor.example/" }],
        finalUrl: "https://app.vendor.example/",
        status: 200,
      }),
    );
    assert.equal(v.outcome, "reachable");
  });
});

describe("matchSignature", () => {
  it("`*.` takes the base name and every subdomain, and nothing that merely ends alike", () => {
    assert.equal(matchSignature("https://securly.com/", SIGNATURES)?.pattern, "*.securly.com");
    assert.equal(matchSignature("https://a.b.securly.com./x", SIGNATURES)?.pattern, "*.securly.com");
    assert.equal(matchSignature("https://notsecurly.com/", SIGNATURES), null);
  });

  it("a wildcard host in a URL pattern", () => {
    assert.equal(matchSignature("https://x.filter.test/deny/page/1", SIGNATURES)?.pattern, "*.filter.test/deny/page");
    assert.equal(matchSignature("https://x.filter.test/deny/", SIGNATURES), null);
  });

  it("only web URLs match", () => {
    assert.equal(matchSignature("chrome-extension://blocked.goguardian.com/x", SIGNATURES), null);
  });
});

describe("classify: a filter extension's own page", () => {
  it("names the catalogued filter of that extension id", () => {
    const v = classify(nav({ finalUrl: `chrome-extension://${GOGUARDIAN_ID}/blocked.html?url=https%3A%2F%2Fapp`, extensions: [goguardian] }));
    assert.equal(v.outcome, "blocked_by_filter");
    assert.equal(v.blocking_layer, "browser_extension");
    assert.deepEqual(v.signature, {
      id: "goguardian-extension",
      vendor: "GoGuardian",
      matched: `chrome-extension://${GOGUARDIAN_ID}/blocked.html`,
    });
  });

  it("names an uncatalogued extension by its name", () => {
    const id = "abcdefghijklmnopabcdefghijklmnop";
    const v = classify(nav({ redirects: [{ from: "https://app.vendor.example/", status: 307, location: `chrome-extension://${id}/stop.html` }], extensions: [{ id, name: "District Guard", enabled: true }] }));
    assert.deepEqual(v.signature, { id: `extension:${id}`, vendor: "District Guard", matched: `chrome-extension://${id}/stop.html` });
  });

  it("says 'an extension' when the extension list does not know it", () => {
    const id = "ponmlkjihgfedcbaponmlkjihgfedcba";
    assert.equal(classify(nav({ finalUrl: `chrome-extension://${id}/x.html` })).signature.vendor, "an extension");
  });

  it("ignores the agent's own pages", () => {
    const self = "okobjgclhkclajilfkkoaeakgobmceep";
    const v = classify(nav({ finalUrl: `chrome-extension://${self}/offscreen.html`, selfId: self, status: 200 }));
    assert.equal(v.outcome, "reachable");
  });
});

describe("classify: net errors", () => {
  it("ERR_BLOCKED_BY_CLIENT names the only enabled filter extension", () => {
    const v = classify(nav({ error: "net::ERR_BLOCKED_BY_CLIENT", extensions: [goguardian, { id: "x".repeat(32), name: "Dictionary", enabled: true }] }));
    assert.equal(v.outcome, "blocked_by_filter");
    assert.equal(v.blocking_layer, "browser_extension");
    assert.equal(v.signature.id, "goguardian-extension");
    assert.equal(v.signature.vendor, "GoGuardian");
  });

  it("ERR_BLOCKED_BY_CLIENT with two filter extensions names neither, and the detail lists both", () => {
    const securly = { id: SECURLY_ID, name: "Securly", enabled: true, filter_vendor: "Securly" };
    const v = classify(nav({ error: "net::ERR_BLOCKED_BY_CLIENT", extensions: [goguardian, securly] }));
    assert.equal(v.signature, undefined);
    assert.match(v.detail, /GoGuardian \(haldl.*Securly \(jofl/);
  });

  it("ERR_BLOCKED_BY_CLIENT without a filter extension lists the ones that can block", () => {
    const adblock = { id: "a".repeat(32), name: "Ad Blocker", enabled: true, can_block: true };
    const v = classify(nav({ error: "net::ERR_BLOCKED_BY_CLIENT", extensions: [adblock, { id: "b".repeat(32), name: "Notes", enabled: true }] }));
    assert.equal(v.signature, undefined);
    assert.match(v.detail, /Ad Blocker/);
    assert.doesNotMatch(v.detail, /Notes/);
  });

  it("ERR_BLOCKED_BY_ADMINISTRATOR is the browser's URLBlocklist", () => {
    const v = classify(nav({ error: "net::ERR_BLOCKED_BY_ADMINISTRATOR" }));
    assert.deepEqual(v, {
      outcome: "blocked_by_filter",
      blocking_layer: "browser_policy",
      signature: { ...POLICY_SIGNATURE },
      detail: "net::ERR_BLOCKED_BY_ADMINISTRATOR: the browser's URLBlocklist policy blocks this address",
    });
  });

  for (const error of ["net::ERR_NAME_NOT_RESOLVED", "net::ERR_NAME_RESOLUTION_FAILED"]) {
    it(`${error} is a DNS failure the browser cannot attribute`, () => {
      const v = classify(nav({ error }));
      assert.equal(v.outcome, "dns_failed");
      assert.equal(v.blocking_layer, "dns");
      assert.match(v.detail, /cannot tell a DNS filter's refusal/);
    });
  }

  it("a refused CONNECT is the proxy's block", () => {
    const v = classify(nav({ error: "net::ERR_TUNNEL_CONNECTION_FAILED" }));
    assert.equal(v.outcome, "blocked_by_filter");
    assert.equal(v.blocking_layer, "http_proxy");
  });

  for (const error of ["net::ERR_PROXY_CONNECTION_FAILED", "net::ERR_PROXY_AUTH_UNSUPPORTED", "net::ERR_MANDATORY_PROXY_CONFIGURATION_FAILED"]) {
    it(`${error} is an unreachable proxy`, () => {
      const v = classify(nav({ error }));
      assert.equal(v.outcome, "connection_refused");
      assert.equal(v.blocking_layer, "http_proxy");
    });
  }

  for (const error of ["net::ERR_CERT_AUTHORITY_INVALID", "net::ERR_CERT_COMMON_NAME_INVALID", "net::ERR_SSL_PROTOCOL_ERROR"]) {
    it(`${error} is a TLS failure with no layer, and says the certificate is hidden`, () => {
      const v = classify(nav({ error }));
      assert.equal(v.outcome, "tls_failed");
      assert.equal(v.blocking_layer, undefined);
      assert.ok(v.detail.startsWith(error));
      assert.match(v.detail, /does not show the certificate to extensions/);
    });
  }

  const transport = [
    ["net::ERR_CONNECTION_RESET", "connection_reset", "tcp"],
    ["net::ERR_CONNECTION_REFUSED", "connection_refused", "tcp"],
    ["net::ERR_CONNECTION_TIMED_OUT", "timeout", "tcp"],
    ["net::ERR_TIMED_OUT", "timeout", "tcp"],
    ["net::ERR_CONNECTION_CLOSED", "connection_reset", undefined],
    ["net::ERR_EMPTY_RESPONSE", "connection_reset", undefined],
  ];
  for (const [error, outcome, layer] of transport) {
    it(`${error} → ${outcome}`, () => {
      const v = classify(nav({ error }));
      assert.equal(v.outcome, outcome);
      assert.equal(v.blocking_layer, layer);
    });
  }

  it("an unknown net error is a failed connection with the error in the detail and no layer", () => {
    const v = classify(nav({ error: "net::ERR_SOMETHING_NEW" }));
    assert.deepEqual(v, { outcome: "connection_reset", detail: "net::ERR_SOMETHING_NEW: the navigation failed" });
  });

  it("an HTTP error status with an empty body is that status, never a reset", () => {
    const v = classify(nav({ error: "net::ERR_HTTP_RESPONSE_CODE_FAILURE", status: 403 }));
    assert.deepEqual(v, {
      outcome: "unexpected_status",
      detail: "net::ERR_HTTP_RESPONSE_CODE_FAILURE: the server answered status 403 with an empty body",
    });
    assert.equal(classify(nav({ error: "net::ERR_HTTP_RESPONSE_CODE_FAILURE", status: 404, expectStatus: [404] })).outcome, "reachable");
    assert.equal(classify(nav({ error: "net::ERR_HTTP_RESPONSE_CODE_FAILURE" })).outcome, "unexpected_status");
  });

  it("an error outranks a status", () => {
    assert.equal(classify(nav({ error: "net::ERR_CONNECTION_RESET", status: 200 })).outcome, "connection_reset");
  });
});

describe("classify: sinkhole addresses", () => {
  for (const ip of ["0.0.0.0", "0.1.2.3", "::", "[::]", "::ffff:0.0.0.0"]) {
    it(`${ip} is a DNS filter's answer, whatever error followed`, () => {
      const v = classify(nav({ ip, error: "net::ERR_CONNECTION_REFUSED" }));
      assert.equal(v.outcome, "blocked_by_filter");
      assert.equal(v.blocking_layer, "dns");
    });
  }

  it("loopback is an ordinary address", () => {
    assert.equal(classify(nav({ ip: "127.0.0.1", error: "net::ERR_CONNECTION_REFUSED" })).outcome, "connection_refused");
    assert.equal(isSinkholeAddress("127.0.0.1", SIGNATURES), false);
    assert.equal(isSinkholeAddress("::1", SIGNATURES), false);
    assert.equal(isSinkholeAddress("10.0.0.1", SIGNATURES), false);
    assert.equal(isSinkholeAddress("10.77.0.66", SIGNATURES), true);
  });

  it("a DNS filter's block server, by the addresses its signature lists, even when it answers 200", () => {
    const v = classify(nav({ url: "http://dnsblocked.lab.test/", ip: "10.77.0.66", status: 200, finalUrl: "http://dnsblocked.lab.test/" }));
    assert.deepEqual(v, {
      outcome: "blocked_by_filter",
      blocking_layer: "dns",
      signature: { id: "lab-dns-filter", vendor: "Lab DNS Filter", matched: "address 10.77.0.66 (10.77.0.66)" },
      detail: "the name resolved to 10.77.0.66, the address of Lab DNS Filter's block server",
    });
    assert.equal(classify(nav({ ip: "146.112.61.107", status: 200 })).signature.id, "umbrella-block-servers");
    assert.equal(classify(nav({ ip: "146.112.61.112", status: 200 })).outcome, "reachable");
  });

  it("a block page the tab landed on outranks the address it was served from", () => {
    const v = classify(nav({ ip: "10.77.0.66", status: 200, finalUrl: "https://blocked.goguardian.com/" }));
    assert.equal(v.signature.id, "goguardian-block-host");
  });

  it("an address the resolver gave after the connection failed is named as such", () => {
    const v = classify(nav({ ip: "0.0.0.0", lookedUp: true, error: "net::ERR_CONNECTION_REFUSED" }));
    assert.equal(v.blocking_layer, "dns");
    assert.match(v.detail, /resolved to 0\.0\.0\.0.*the browser's resolver answers it; the connection failed: net::ERR_CONNECTION_REFUSED/);
    const real = classify(nav({ ip: "192.0.2.7", lookedUp: true, error: "net::ERR_CONNECTION_REFUSED" }));
    assert.equal(real.outcome, "connection_refused", "a real address leaves the refusal the firewall's");
  });

  it("ERR_ADDRESS_INVALID is the browser refusing a sinkhole address", () => {
    const v = classify(nav({ error: "net::ERR_ADDRESS_INVALID" }));
    assert.equal(v.outcome, "blocked_by_filter");
    assert.equal(v.blocking_layer, "dns");
  });
});

describe("classify: timeouts and statuses", () => {
  it("the probe's own time limit is a timeout", () => {
    assert.deepEqual(classify(nav({ timedOut: true, timeoutMs: 20000 })), {
      outcome: "timeout",
      blocking_layer: "tcp",
      detail: "no answer within 20 s",
    });
  });

  it("without expect_status any status below 400 is reachable", () => {
    assert.equal(classify(nav({ status: 200 })).outcome, "reachable");
    assert.equal(classify(nav({ status: 302 })).outcome, "reachable");
    assert.deepEqual(classify(nav({ status: 404 })), { outcome: "unexpected_status" });
    assert.equal(classify(nav({ status: 503 })).outcome, "unexpected_status");
  });

  it("expect_status is the only list accepted", () => {
    assert.equal(classify(nav({ status: 401, expectStatus: [200, 401] })).outcome, "reachable");
    assert.equal(classify(nav({ status: 204, expectStatus: [200, 401] })).outcome, "unexpected_status");
  });

  it("without following redirects the first answer's status is judged", () => {
    const n = nav({
      followRedirects: false,
      expectStatus: [302],
      redirects: [{ from: "https://app.vendor.example/", status: 302, location: "https://login.vendor.example/" }],
      finalUrl: "https://login.vendor.example/",
      status: 200,
    });
    assert.equal(judgedStatus(n), 302);
    assert.equal(classify(n).outcome, "reachable");
    assert.equal(classify({ ...n, followRedirects: true }).outcome, "unexpected_status");
  });

  it("no answer at all and no error is an unexpected status that says where the tab ended", () => {
    const v = classify(nav({ finalUrl: "data:text/html,hello?x" }));
    assert.equal(v.outcome, "unexpected_status");
    assert.match(v.detail, /no HTTP answer/);
  });

  it("accepts", () => {
    assert.equal(accepts(100, []), true);
    assert.equal(accepts(399, undefined), true);
    assert.equal(accepts(400, []), false);
    assert.equal(accepts(99, []), false);
  });
});
