// The Stripe stand-in as a process of its own, for scripts (scripts/contract.sh): it
// prints its base URL on the first line and serves until it is killed.
//
//   node e2e/lib/stripe-standin-main.mjs SECRET_KEY WEBHOOK_SECRET
import { startStripeStandIn } from './stripe-standin.mjs';

const [secretKey, webhookSecret] = process.argv.slice(2);
if (!secretKey || !webhookSecret) {
  console.error('usage: stripe-standin-main.mjs SECRET_KEY WEBHOOK_SECRET');
  process.exit(2);
}
const stripe = await startStripeStandIn({ secretKey, webhookSecret });
console.log(stripe.base);
