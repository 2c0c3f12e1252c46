-- tour_by_slug
-- $1 = :slug
-- $2 = 1
select "id",
  "title",
  "slug",
  "description",
  "location",
  "departure_location",
  "arrival_location",
  "images",
  "cost_from_minor",
  "currency",
  "start_date",
  "end_date",
  "included",
  "excluded",
  "amenities",
  "tour_plan",
  "max_guest",
  "min_age",
  "cancellation_policy",
  "seats_booked",
  "rating_sum",
  "rating_count",
  "division_id",
  "tour_type_id",
  "created_at",
  "updated_at"
from "tours"
where "tours"."slug" = $1
limit $2
