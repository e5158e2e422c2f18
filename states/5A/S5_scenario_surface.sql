-- step: slice
-- 5A.S4 validated every scenario of the policy in class_zone_surface_5A (a seed-scoped gate cannot
-- read scenario-scoped data); this state publishes the running scenario's rows, unchanged.
create table class_zone_scenario_utc_5A as
select demand_class, channel_group, tzid, bucket_index, bucket_start_utc, share
from class_zone_surface_5A
where scenario_id = CASE WHEN getvariable('scenario_id') IN (select distinct scenario_id from class_zone_surface_5A) THEN getvariable('scenario_id')
                         ELSE error('scenario ' || getvariable('scenario_id') || ' is not in config/5A/scenario_policy.yaml') END;
