-- tour_list_shape_sorted_page (tour_list_<n>_page, shape location|-costFrom,title)
-- $1 = :filter_location
-- $2 = :limit
-- $3 = :offset
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
where "tours"."location" = $1
order by "tours"."cost_from_minor" desc,
  "tours"."title" asc,
  "tours"."id" desc
limit $2
offset $3
