-- tour_list_default
-- $1 = :limit
-- $2 = :offset
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
order by "tours"."created_at" desc,
  "tours"."id" desc
limit $1
offset $2
