-- tour_count_all
select "n" as "total"
from "tour_counts"
where "tour_counts"."scope" = 'all' and "tour_counts"."key" = ''
