// A Zuplo inbound policy that signs the request for funnel's ingest.
// In policies.json:
//   { "name": "funnel-sign", "policyType": "custom-code-inbound",
//     "handler": { "export": "default", "module": "$import(./modules/funnel/policy)",
//                  "options": { "secret": "$env(INGEST_HMAC_SECRET)",
//                               "upstreamUrl": "https://funnel.example.com/internal/funnel-events/ingest" } } }
import { signedForward } from "./funnel-signing";

export interface FunnelSignOptions {
  secret: string;
  upstreamUrl: string;
}

export default async function funnelSignPolicy(
  request: Request,
  _context: unknown,
  options: FunnelSignOptions,
): Promise<Request> {
  if (!options?.secret) throw new Error("funnel-sign: options.secret is not set");
  return signedForward(request, options.upstreamUrl, options.secret);
}
