-- sysbench's own oltp_insert, with three things the rehearsal needs (rehearsal/clients/fleet.py):
-- * the insert stamps the server that executed it (pad = @@server_id, evaluated by that server, carried by ROW
--   replication) — one statement, so a reconnect cannot separate the stamp from the write;
-- * a per-second report with exact counts (sysbench prints rates), one JSON line after "SB ", wall-clock stamped;
-- * a stop file: once it exists, events send nothing, so the counts are final before the process is ended
--   (sysbench prints no summary when it is signalled).
require("oltp_insert")

local ffi = require("ffi")
pcall(ffi.cdef, "typedef struct { long tv_sec; long tv_usec; } sb_timeval;")
pcall(ffi.cdef, "int gettimeofday(sb_timeval *tv, void *tz);")
pcall(ffi.cdef, "int usleep(unsigned int usec);")

local function insert_event()
   local table_name = "sbtest" .. sysbench.rand.uniform(1, sysbench.opt.tables)
   con:query(string.format("INSERT INTO %s (id, k, c, pad) SELECT 0, %d, '%s', @@server_id", table_name,
                           sysbench.rand.default(1, sysbench.opt.table_size), get_c_value()))
end
local stop_file = os.getenv("SB_STOP_FILE") or ""

function event()
   local f = io.open(stop_file, "r")
   if f then
      f:close()
      ffi.C.usleep(20000)
      return
   end
   insert_event()
end

function sysbench.hooks.report_intermediate(stat)
   local tv = ffi.new("sb_timeval")
   ffi.C.gettimeofday(tv, nil)
   print(string.format('SB {"t": %.6f, "interval_s": %.4f, "threads_running": %d, "writes": %d, "errors": %d, '
                          .. '"reconnects": %d}', tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6,
                       tonumber(stat.time_interval), tonumber(stat.threads_running), tonumber(stat.writes),
                       tonumber(stat.errors), tonumber(stat.reconnects)))
   io.stdout:flush()
end
