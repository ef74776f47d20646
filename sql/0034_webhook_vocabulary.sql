-- Webhook event types and payload keys: the union of those added by 0025 (onward housing) and 0028
-- (pull feeds), which each redefined the two functions from 0005 without knowing the other.
-- Keep in step with skyddat_boende/webhooks/events.py.

create or replace function is_webhook_event_type(event_type text)
returns boolean
language sql immutable strict parallel safe
return event_type = any(array[
    'offer.created', 'offer.accepted', 'offer.declined', 'offer.expired', 'offer.withdrawn',
    'placement.checked_in', 'placement.moved_out', 'request.withdrawn', 'request.waiting', 'unit.changed',
    'feed.stale', 'onward_offer.created', 'onward_offer.accepted', 'onward_offer.declined',
    'onward_offer.expired', 'onward_offer.withdrawn', 'onward.moved_in', 'webhook.test']);

create or replace function is_webhook_payload(payload jsonb)
returns boolean
language sql immutable strict parallel safe
return jsonb_typeof(payload) = 'object'
   and coalesce((select bool_and(
            key = any(array['request_id', 'offer_id', 'placement_id', 'unit_id', 'shelter_id', 'subscription_id',
                            'feed_id', 'onward_request_id', 'onward_offer_id', 'apartment_id'])
            and jsonb_typeof(value) = 'string'
            and value #>> '{}' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
        from jsonb_each(payload)), true);
