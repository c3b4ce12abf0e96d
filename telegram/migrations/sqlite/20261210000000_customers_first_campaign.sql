-- The campaign funnel counts customers by the campaign that brought them
-- first, within a range of days (CustomerStore.CountFirstCampaigns).
CREATE INDEX {prefix}customers_first_campaign ON {prefix}customers (first_campaign_at, first_campaign_id);
