-- tour_list_shape_filtered_page (tour_list_<n>_page, shape searchTerm,division,tourType|)
-- $1 = :searchTerm
-- $2 = :searchTerm
-- $3 = :searchTerm
-- $4 = :filter_division
-- $5 = :filter_tourType
-- $6 = :limit
-- $7 = :offset
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
where (("tours"."title" ilike $1 or "tours"."description" ilike $2 or "tours"."location" ilike $3) and "tours"."division_id" = $4 and "tours"."tour_type_id" = $5)
order by "tours"."created_at" desc,
  "tours"."id" desc
limit $6
offset $7
