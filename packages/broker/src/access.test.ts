import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Access, type AclEntry, type AuthOptions } from "./access.js";

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const auth: AuthOptions = {
  principals: [
    { name: "alice", tokenSha256: sha256("s3cret") },
    { name: "root", tokenSha256: sha256("r00t").toUpperCase() },
  ],
};

describe("Access", () => {
  it("authenticates by the token's digest, scheme case-insensitively", () => {
    const access = new Access(auth, undefined);
    expect(access.authenticate("Bearer s3cret").name).toBe("alice");
    expect(access.authenticate("bearer   r00t").name).toBe("root"); // an upper-case hex digest works too
    for (const header of [undefined, "", "Bearer", "Bearer s3cret x", "Token s3cret", "Bearer s3cre", `Bearer ${sha256("s3cret")}`]) {
      expect(() => access.authenticate(header), String(header)).toThrow(expect.objectContaining({ code: "AUTHENTICATION_FAILED" }));
    }
    // The message never quotes the token.
    expect(() => access.authenticate("Bearer wrong-token")).toThrow(expect.not.objectContaining({ message: expect.stringContaining("wrong-token") }));
  });

  it("remembers verified header values only: unknown tokens are checked every time, a new configuration forgets", () => {
    const access = new Access(auth, undefined);
    const alice = access.authenticate("Bearer s3cret");
    expect(access.authenticate("Bearer s3cret")).toBe(alice); // the same principal object, from the map
    for (let i = 0; i < 3; i++)
      expect(() => access.authenticate("Bearer s3cret2")).toThrow(expect.objectContaining({ code: "AUTHENTICATION_FAILED" }));
    // Many spellings of a valid header (bounded map, cleared when full) keep authenticating correctly.
    for (let i = 0; i < 2100; i++) expect(access.authenticate(`Bearer ${" ".repeat(i % 50)}s3cret${" ".repeat(Math.floor(i / 50))}`)).toBe(alice);
    expect(() => access.authenticate("Bearer r00tx")).toThrow(expect.objectContaining({ code: "AUTHENTICATION_FAILED" }));
    // A changed configuration is a new Access: alice's token, remembered by the old one, is refused.
    const without = new Access({ principals: [auth.principals[1]!] }, undefined);
    expect(() => without.authenticate("Bearer s3cret")).toThrow(expect.objectContaining({ code: "AUTHENTICATION_FAILED" }));
  });

  it("is disabled without auth", () => {
    expect(new Access(undefined, undefined).enabled).toBe(false);
  });

  const invalid: Array<[string, AuthOptions | undefined, AclEntry[] | undefined, string]> = [
    ["acls without auth", undefined, [], "acls need auth"],
    ["no principals", { principals: [] }, undefined, "auth.principals must be a non-empty list"],
    ["a short digest", { principals: [{ name: "a", tokenSha256: "abc" }] }, undefined, "auth.principals[0].tokenSha256 must be 64 hex digits"],
    [
      "a duplicate name",
      { principals: [auth.principals[0]!, { name: "alice", tokenSha256: sha256("x") }] },
      undefined,
      'auth.principals[1].name: "alice" is listed twice',
    ],
    [
      "a shared token",
      { principals: [auth.principals[0]!, { name: "bob", tokenSha256: sha256("s3cret") }] },
      undefined,
      "auth.principals[1].tokenSha256 is another principal's too",
    ],
    ["an unknown super user", { ...auth, superUsers: ["bob"] }, undefined, 'auth.superUsers[0]: "bob" is not in auth.principals'],
    [
      "an ACL for an unknown principal",
      auth,
      [{ principal: "bob", resource: "topic", name: "*", operations: ["read"], permission: "allow" }],
      'acls[0].principal: "bob"',
    ],
    [
      "an unknown operation",
      auth,
      [{ principal: "alice", resource: "topic", name: "*", operations: ["fly" as "read"], permission: "allow" }],
      "acls[0].operations must be",
    ],
    [
      "an unknown field",
      auth,
      [{ principal: "alice", resource: "topic", name: "*", operations: ["read"], permission: "allow", host: "*" } as AclEntry],
      "acls[0].host is not an ACL field",
    ],
    [
      "a bad pattern",
      auth,
      [{ principal: "alice", resource: "topic", name: "*", pattern: "regex" as "literal", operations: ["read"], permission: "allow" }],
      "acls[0].pattern",
    ],
  ];
  it.each(invalid)("refuses %s", (_, a, acls, message) => {
    expect(() => new Access(a, acls)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST", message: expect.stringContaining(message) }));
  });

  it("keeps deciding right past its decision cache's bound", () => {
    const access = new Access(auth, [
      { principal: "*", resource: "topic", name: "t-1", pattern: "prefixed", operations: ["read"], permission: "allow" },
    ]);
    const principal = access.authenticate("Bearer s3cret");
    const c = { get: () => principal } as never;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10_000; i++) expect(access.allows(c, "topic", `t-${i}`, "read")).toBe(String(i).startsWith("1"));
    }
    expect(access.allows(c, "topic", "t-1", "write")).toBe(false);
    expect(access.allows(c, "topic", "t-1", "describe")).toBe(true); // read implies describe
    expect(access.allows(c, "group", "t-1", "read")).toBe(false);
  });
});
