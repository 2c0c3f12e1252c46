-- tour_count_all
select count(*)::int
from "tours"
