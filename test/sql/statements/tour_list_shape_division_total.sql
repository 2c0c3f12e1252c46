-- tour_list_shape_division_total (tour_list_<n>_total, shape division|title)
-- $1 = :filter_division
select "n" as "total"
from "tour_counts"
where "tour_counts"."scope" = 'division' and "tour_counts"."key" = $1::uuid::text
