import type { FakeHubSpot } from '../../fakes/hubspot/server';
import { pause } from './sender';

/** Waiting for the moment a fault should strike: the sync engine in the middle of writing HubSpot contacts. */

const CONTACT_WRITE = /^\/crm\/v3\/objects\/contacts\/batch\/(create|update)$/;

/** A contact batch write HubSpot has received and not answered yet (its path), if any. */
export function contactWriteInFlight(hubspot: FakeHubSpot): string | undefined {
  return hubspot.requests.find((r) => r.status === 0 && r.method === 'POST' && CONTACT_WRITE.test(r.path))?.path;
}

/**
 * Resolves with the path of a contact write in flight once `ready()` holds, or undefined after `timeoutMs`. From the first contact call on (the portal is provisioned by then) HubSpot answers after `latencyMs`,
 * so a write is in flight most of the time.
 */
export async function midContactWrite(
  hubspot: FakeHubSpot,
  { ready, timeoutMs = 90_000, latencyMs = 400 }: { ready: () => boolean; timeoutMs?: number; latencyMs?: number },
): Promise<string | undefined> {
  let slowed = false;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!slowed && hubspot.requests.some((r) => r.path.startsWith('/crm/v3/objects/contacts'))) {
      hubspot.inject.latency(latencyMs);
      slowed = true;
    }
    const inFlight = ready() ? contactWriteInFlight(hubspot) : undefined;
    if (inFlight) return inFlight;
    await pause(5);
  }
  return undefined;
}

/** Sum of `hubspot_requests_total` on a process's /metrics (HubSpot calls it made). */
export async function hubspotCallsOf(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let sum = 0;
  for (const m of text.matchAll(/^hubspot_requests_total\{[^}]*\} (\d+)/gm)) sum += Number(m[1]);
  return sum;
}
