/**
 * How the fast front end tells the internal Bun.serve (behind it on a loopback port, where every peer is the front
 * end itself) who the real client is: a request header holding a per-process secret and the address. Only the
 * front end knows the secret, and it drops any copy a client sends, so the header cannot be spoofed on any
 * listener; it is never forwarded upstream (headers.ts drops it).
 */
import { randomBytes } from "node:crypto";

export const PEER_HEADER = "x-clace-lite-peer";

/** Random per process: the front end and the internal server live in the same one. */
const SECRET = randomBytes(18).toString("base64url");

/** The header line the front end adds to each relayed request head. */
export function peerHeaderLine(ip: string): string {
  return `${PEER_HEADER}: ${SECRET} ${ip}\r\n`;
}

/** The client address carried by a relayed request, or "" when it carries none (or a forged one). */
export function relayedPeer(headers: Headers): string {
  const v = headers.get(PEER_HEADER);
  if (v === null || v.length <= SECRET.length + 1 || !v.startsWith(SECRET) || v.charCodeAt(SECRET.length) !== 32) return "";
  return v.slice(SECRET.length + 1);
}
