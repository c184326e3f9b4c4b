#!/usr/bin/env bash
# Plays both sides of SPEC §2.5 steps 1–4 and §2.6 over HTTP alone, with curl:
# a visitor opens a conversation and writes; an operator signs in, reads it, opens the
# Payments picker and shares a card; the visitor sees it live and asks for the checkout
# link; the operator cancels one card, the visitor declines another.
#
#   scripts/api-tour.sh [BASE_URL] [PASSWORD]    (defaults: http://127.0.0.1:8080, $PAYCARD_DEMO_PASSWORD)
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
PASSWORD=${2:-${PAYCARD_DEMO_PASSWORD:?pass the demo password, as printed by make run}}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }
step() { printf '\n== %s\n' "$*"; }
post() { curl -sS --fail-with-body -X POST "$BASE$1" -H 'content-type: application/json' "${@:2}"; }

step "visitor: open a conversation with brand acme"
created=$(post /api/v1/conversations -d '{"brand_id": "acme", "visitor_name": "Ana"}')
conv=$(json 'd["conversation"]["id"]' <<<"$created")
visitor=$(json 'd["visitor_token"]' <<<"$created")
echo "conversation $conv"

step "visitor: listen live (SSE) in the background"
curl -sSN "$BASE/api/v1/conversations/$conv/events" -H "authorization: Bearer $visitor" --max-time 5 >/tmp/paycard-tour-events.txt 2>/dev/null &
sleep 0.5

step "visitor: write"
post "/api/v1/conversations/$conv/messages" -H "authorization: Bearer $visitor" -d '{"text": "Hi! Can I order a custom mug?"}' | json 'd["text"]'

step "operator: sign in, see the conversation"
operator=$(post /api/v1/auth/login -d "{\"email\": \"operator@example.com\", \"password\": \"$PASSWORD\"}" | json 'd["token"]')
curl -sS "$BASE/api/v1/operator/conversations" -H "authorization: Bearer $operator" | json '[(c["visitor_name"], c["last_message"]["text"]) for c in d if c["id"] == "'"$conv"'"]'

step "operator: Payments picker (the brand's active payments)"
curl -sS "$BASE/api/v1/operator/conversations/$conv/payments" -H "authorization: Bearer $operator" | json '[(p["id"], p["title"], p["amount_minor"], p["currency"], p["recurrence"]) for p in d]'

step "operator: Share the mug (twice with one Idempotency-Key: one card)"
for _ in 1 2; do
  card=$(post "/api/v1/operator/conversations/$conv/cards" -H "authorization: Bearer $operator" -H 'idempotency-key: tour-mug' -d '{"payment_id": "pay_demo_mug"}')
  echo "card $(json 'd["id"], d["status"]' <<<"$card")"
done
card_id=$(json 'd["id"]' <<<"$card")

step "visitor: the card, then Pay Now asks for the checkout link"
curl -sS "$BASE/api/v1/cards/$card_id" -H "authorization: Bearer $visitor" | json 'd["title"], d["amount_minor"], d["status"]'
post "/api/v1/cards/$card_id/checkout" -H "authorization: Bearer $visitor" | json 'd["checkout_url"]'

step "operator: Cancel request"
post "/api/v1/operator/cards/$card_id/cancel" -H "authorization: Bearer $operator" | json 'd["status"]'
step "visitor: the link is gone (409)"
post "/api/v1/cards/$card_id/checkout" -H "authorization: Bearer $visitor" 2>/dev/null || true

step "operator shares the subscription; the visitor declines it"
sub=$(post "/api/v1/operator/conversations/$conv/cards" -H "authorization: Bearer $operator" -d '{"payment_id": "pay_demo_beans"}' | json 'd["id"]')
post "/api/v1/cards/$sub/decline" -H "authorization: Bearer $visitor" | json 'd["status"]'

wait
step "what the visitor's live stream received"
grep -E '^(id|event):' /tmp/paycard-tour-events.txt | paste - - 
