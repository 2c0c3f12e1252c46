-- tour_list_shape_sorted_total (tour_list_<n>_total, shape location|-costFrom,title)
-- $1 = :filter_location
select count(*)::int as "total"
from "tours"
where "tours"."location" = $1
