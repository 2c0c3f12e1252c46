-- tour_by_slug
-- $1 = :now
-- $2 = :now
-- $3 = :now
-- $4 = :now
-- $5 = 1
-- $6 = :slug
-- $7 = 1
select row_to_json(r) as r
from (
  select "tours"."id" as "_id",
    "tours"."slug" as "slug",
    "tours"."title" as "title",
    "tours"."description" as "description",
    "tours"."images" as "images",
    "tours"."cost_from_minor"::float8 / 100 as "costFrom",
    "tours"."currency" as "currency",
    "tours"."max_guest" as "maxGuest",
    "tours"."min_age" as "minAge",
    case when "next_departure"."id" is null then "tours"."max_guest" when "next_departure"."capacity" is null then null when "next_departure"."status" <> 'SCHEDULED' then 0 else greatest(0, "next_departure"."capacity" - "next_departure"."seats_booked") end as "availableSeats",
    "tours"."departure_location" as "departureLocation",
    "tours"."arrival_location" as "arrivalLocation",
    "tours"."location" as "location",
    to_char("next_departure"."start_date" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "startDate",
    to_char("next_departure"."end_date" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "endDate",
    "tours"."amenities" as "amenities",
    "tours"."included" as "included",
    "tours"."excluded" as "excluded",
    "tours"."tour_plan" as "tourPlan",
    "tours"."division_id" as "division",
    "tours"."tour_type_id" as "tourType",
    "tours"."cancellation_policy" as "cancellationPolicy",
    (
      select count(*)::int
      from departures d
      where d.tour_id = "tours"."id" and d.status = 'SCHEDULED' and d.start_date > $1::timestamptz) as "departures",
    case when "bookable" then "next_departure"."id" end as "nextDeparture",
    "tours"."rating_sum" as "ratingSum",
    "tours"."rating_count" as "ratingCount",
    to_char("tours"."created_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt",
    to_char("tours"."updated_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
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
  where "tours"."slug" = $6
  limit $7) r
