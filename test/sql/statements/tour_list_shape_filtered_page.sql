-- tour_list_shape_filtered_page (tour_list_<n>_page, shape searchTerm,division,tourType|)
-- $1 = :now
-- $2 = :now
-- $3 = :now
-- $4 = :now
-- $5 = 1
-- $6 = :searchTerm
-- $7 = :searchTerm
-- $8 = :searchTerm
-- $9 = :filter_division
-- $10 = :filter_tourType
-- $11 = :limit
-- $12 = :offset
select "tours"."id",
  "tours"."title",
  "tours"."slug",
  "tours"."description",
  "tours"."location",
  "tours"."departure_location",
  "tours"."arrival_location",
  "tours"."images",
  "tours"."cost_from_minor",
  "tours"."currency",
  "tours"."included",
  "tours"."excluded",
  "tours"."amenities",
  "tours"."tour_plan",
  "tours"."max_guest",
  "tours"."min_age",
  "tours"."cancellation_policy",
  "tours"."rating_sum",
  "tours"."rating_count",
  "tours"."division_id",
  "tours"."tour_type_id",
  "tours"."created_at",
  "tours"."updated_at",
  "next_departure"."id",
  "next_departure"."start_date",
  "next_departure"."end_date",
  "next_departure"."capacity",
  "next_departure"."seats_booked",
  "next_departure"."status",
  "bookable",
  (
    select count(*)::int
    from departures d
    where d.tour_id = "tours"."id" and d.status = 'SCHEDULED' and d.start_date > $1::timestamptz) as "upcoming_departures"
from "tours"
left join lateral (
  select "id",
    "start_date",
    "end_date",
    "capacity",
    "seats_booked",
    "status",
    ("status" = 'SCHEDULED' and "start_date" > $2::timestamptz) as "bookable"
  from "departures"
  where "departures"."tour_id" = "tours"."id"
  order by ("departures"."status" = 'SCHEDULED' and "departures"."start_date" > $3::timestamptz) desc,
    case when ("departures"."status" = 'SCHEDULED' and "departures"."start_date" > $4::timestamptz) then "departures"."start_date" end,
    "departures"."start_date" desc
  limit $5) "next_departure" on true
where (("tours"."title" ilike $6 or "tours"."description" ilike $7 or "tours"."location" ilike $8) and "tours"."division_id" = $9 and "tours"."tour_type_id" = $10)
order by "tours"."created_at" desc,
  "tours"."id" desc
limit $11
offset $12
