// parseAddress / formatAddress: every Address form of API.md §1.

import assert from "node:assert/strict";
import {
  type Address,
  formatAddress,
  parseAddress,
} from "../../connection/mod.ts";

Deno.test("address: every accepted form parses to its normal form", () => {
  const cases: [Address, ReturnType<typeof parseAddress>][] = [
    ["tcp://127.0.0.1:6000", {
      family: "AF_INET",
      hostname: "127.0.0.1",
      port: 6000,
    }],
    ["127.0.0.1:6000", {
      family: "AF_INET",
      hostname: "127.0.0.1",
      port: 6000,
    }],
    ["localhost:0", { family: "AF_INET", hostname: "localhost", port: 0 }],
    ["[::1]:6000", { family: "AF_INET6", hostname: "::1", port: 6000 }],
    ["tcp://[::1]:6000", { family: "AF_INET6", hostname: "::1", port: 6000 }],
    ["unix:///tmp/a.sock", { family: "AF_UNIX", path: "/tmp/a.sock" }],
    ["/tmp/a.sock", { family: "AF_UNIX", path: "/tmp/a.sock" }],
    ["./rel.sock", { family: "AF_UNIX", path: "./rel.sock" }],
    ["\0abstract", { family: "AF_UNIX", path: "\0abstract" }],
    [["127.0.0.1", 6000], {
      family: "AF_INET",
      hostname: "127.0.0.1",
      port: 6000,
    }],
    [["::1", 1], { family: "AF_INET6", hostname: "::1", port: 1 }],
    [{ hostname: "127.0.0.1", port: 65535 }, {
      family: "AF_INET",
      hostname: "127.0.0.1",
      port: 65535,
    }],
    [{ path: "/tmp/b.sock" }, { family: "AF_UNIX", path: "/tmp/b.sock" }],
  ];
  for (const [input, want] of cases) {
    assert.deepEqual(parseAddress(input), want, JSON.stringify(input));
  }
});

Deno.test("address: a Deno.NetAddr / Deno.UnixAddr (extra fields) is accepted", () => {
  const net = { transport: "tcp", hostname: "127.0.0.1", port: 80 } as Address;
  assert.deepEqual(parseAddress(net), {
    family: "AF_INET",
    hostname: "127.0.0.1",
    port: 80,
  });
  const unix = { transport: "unix", path: "/tmp/x" } as Address;
  assert.deepEqual(parseAddress(unix), { family: "AF_UNIX", path: "/tmp/x" });
});

Deno.test("address: bad forms are TypeErrors, bad ports RangeErrors", () => {
  for (
    const bad of [
      "",
      "nohost",
      "1.2.3.4",
      "host:port",
      "tcp://",
      42,
      null,
      [],
      ["h"],
      { host: "x" },
    ]
  ) {
    assert.throws(
      () => parseAddress(bad as Address),
      TypeError,
      JSON.stringify(bad),
    );
  }
  for (
    const bad of ["127.0.0.1:65536", ["127.0.0.1", -1], ["127.0.0.1", 1.5], {
      hostname: "h",
      port: 70000,
    }]
  ) {
    assert.throws(
      () => parseAddress(bad as Address),
      RangeError,
      JSON.stringify(bad),
    );
  }
});

Deno.test("address: formatAddress writes a string parseAddress reads back", () => {
  const inputs: Address[] = [
    ["127.0.0.1", 6000],
    { hostname: "::1", port: 7 },
    { path: "/tmp/a.sock" },
    "localhost:9",
  ];
  for (const a of inputs) {
    const s = formatAddress(a);
    assert.deepEqual(parseAddress(s), parseAddress(a), s);
  }
  assert.equal(formatAddress({ hostname: "::1", port: 80 }), "tcp://[::1]:80");
  assert.equal(formatAddress("/x.sock"), "unix:///x.sock");
});
