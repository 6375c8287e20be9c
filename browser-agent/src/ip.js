/**
 * IP addresses as the browser reports them (`details.ip` of webRequest: dotted IPv4, or IPv6
 * text, sometimes bracketed) and as the signature catalog lists them (addresses or CIDR blocks).
 * An IPv4-mapped IPv6 address counts as its IPv4 address.
 */

import { bareHost } from "./url.js";

/** `{version, value}` with value a BigInt, or null when `text` is no address. */
export function parseIp(text) {
  const a = bareHost(String(text ?? ""));
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  return parseV4(mapped ? mapped[1] : a) ?? parseV6(a);
}

function parseV4(a) {
  const parts = a.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return { version: 4, value: parts.reduce((v, p) => (v << 8n) | BigInt(p), 0n) };
}

function parseV6(a) {
  if (!/^[0-9a-f:]+$/.test(a) || !a.includes(":")) return null;
  const halves = a.split("::");
  if (halves.length > 2) return null;
  const groups = (h) => (h === "" ? [] : h.split(":"));
  const [head, tail] = [groups(halves[0]), halves.length === 2 ? groups(halves[1]) : []];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return { version: 6, value: all.reduce((v, g) => (v << 16n) | BigInt(`0x${g}`), 0n) };
}

/** Whether `ip` is `entry`: an address, or a CIDR block (`146.112.61.104/29`, `2001:db8::/32`). */
export function inBlock(ip, entry) {
  const address = parseIp(ip);
  const [base, prefixText] = String(entry).split("/");
  const net = parseIp(base);
  if (!address || !net || address.version !== net.version) return false;
  const bits = address.version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return false;
  const shift = BigInt(bits - prefix);
  return address.value >> shift === net.value >> shift;
}

/** Whether `ip` is an unspecified address (0.0.0.0/8 or `::`): what a DNS filter answers instead of the real one. */
export function isUnspecified(ip) {
  return inBlock(ip, "0.0.0.0/8") || inBlock(ip, "::/128");
}
