-- sysbench's own oltp_insert, unchanged, plus two things the rehearsal needs (rehearsal/clients/sysbench.py):
-- * a per-second report with exact counts (sysbench prints rates), one JSON line after "SB ", wall-clock stamped;
-- * a stop file: once it exists, events send nothing, so the counts are final before the process is ended
--   (sysbench prints no summary when it is signalled).
require("oltp_insert")

local ffi = require("ffi")
pcall(ffi.cdef, "typedef struct { long tv_sec; long tv_usec; } sb_timeval;")
pcall(ffi.cdef, "int gettimeofday(sb_timeval *tv, void *tz);")
pcall(ffi.cdef, "int usleep(unsigned int usec);")

local insert_event = event
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
