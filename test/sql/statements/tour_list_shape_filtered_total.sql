-- tour_list_shape_filtered_total (tour_list_<n>_total, shape searchTerm,division,tourType|)
-- $1 = :searchTerm
-- $2 = :searchTerm
-- $3 = :searchTerm
-- $4 = :filter_division
-- $5 = :filter_tourType
select count(*)::int as "total"
from "tours"
where (("tours"."title" ilike $1 or "tours"."description" ilike $2 or "tours"."location" ilike $3) and "tours"."division_id" = $4 and "tours"."tour_type_id" = $5)
