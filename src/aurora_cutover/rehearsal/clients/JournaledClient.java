// A JVM application for rehearsals: MariaDB Connector/J, one connection opened by the switch name, the JVM's
// own DNS cache (InetAddress: 30 s by default without a security manager; nothing here changes it), and a
// journal in the format of rehearsal/workload.py, so rehearsal/verify.py judges its writes the same way.
//
//   java -cp /usr/share/java/mariadb-java-client.jar JournaledClient.java JOURNAL HOST PORT DB BASE_ID RATE SECONDS
//   (password in APP_PASSWORD, user in APP_USER)
//
// Bounded by SECONDS and by a count (RATE * SECONDS + 1); stops early when the file JOURNAL.stop appears.
import java.io.*;
import java.nio.file.*;
import java.sql.*;
import java.util.*;

public class JournaledClient {
    static PrintWriter out;
    static long seq = 0;

    static double now() { return System.currentTimeMillis() / 1000.0; }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(' ');
            else b.append(c);
        }
        return b.append('"').toString();
    }

    public static void main(String[] a) throws Exception {
        String journal = a[0], host = a[1], db = a[3];
        int port = Integer.parseInt(a[2]);
        long base = Long.parseLong(a[4]);
        double rate = Double.parseDouble(a[5]), seconds = Double.parseDouble(a[6]);
        String url = "jdbc:mariadb://" + host + ":" + port + "/" + db + "?connectTimeout=1500&socketTimeout=2000";
        Properties p = new Properties();
        p.setProperty("user", System.getenv("APP_USER"));
        p.setProperty("password", System.getenv("APP_PASSWORD"));
        Path stop = Paths.get(journal + ".stop");
        out = new PrintWriter(new FileWriter(journal, true));
        Random rng = new Random(3);
        List<Long> live = new ArrayList<>();
        Connection conn = null;
        long serverId = 0, connSerial = 0, assignment = 0, student = 0;
        double opened = 0, end = now() + seconds;
        long maxOps = (long) (rate * seconds) + 1, n = 0, backoffMs = 0;
        String ttl = java.security.Security.getProperty("networkaddress.cache.ttl");
        out.println("{\"start\": " + now() + ", \"base_id\": " + base + ", \"client\": \"jvm\", \"rate\": " + rate
                + ", \"java\": " + q(System.getProperty("java.version")) + ", \"networkaddress_cache_ttl\": "
                + q(ttl == null ? "unset (JVM default: 30 s)" : ttl) + "}");
        out.flush();
        double interval = 1.0 / rate, next = now();
        while (n < maxOps && now() < end && !Files.exists(stop)) {
            n++;
            seq++;
            boolean insert = live.isEmpty() || rng.nextDouble() < 0.6;
            long id = insert ? base + seq : live.get(rng.nextInt(live.size()));
            String token = "jvm:" + base + ":" + seq;
            double t0 = now();
            boolean sent = false, ok = false, ambiguous = false;
            long attemptConn = 0, attemptSid = 0;
            double attemptOpened = 0;
            String error = null;
            try {
                if (conn == null) {
                    conn = DriverManager.getConnection(url, p);  // resolves through the JVM's InetAddress cache
                    try (Statement st = conn.createStatement();
                         ResultSet rs = st.executeQuery("SELECT @@server_id, @@hostname")) {
                        rs.next();
                        serverId = rs.getLong(1);
                    }
                    connSerial++;
                    opened = now();
                    if (assignment == 0) {
                        try (Statement st = conn.createStatement()) {
                            ResultSet rs = st.executeQuery("SELECT id FROM assignments ORDER BY id LIMIT 1");
                            rs.next();
                            assignment = rs.getLong(1);
                            rs = st.executeQuery("SELECT id FROM users WHERE user_kind = 'student' ORDER BY id LIMIT 1");
                            rs.next();
                            student = rs.getLong(1);
                        }
                    }
                }
                attemptConn = connSerial;
                attemptSid = serverId;
                attemptOpened = opened;
                PreparedStatement ps;
                if (insert) {
                    ps = conn.prepareStatement("INSERT INTO submissions (id, assignment_id, student_id, status, body, "
                            + "submitted_at) VALUES (?, ?, ?, 'submitted', ?, UTC_TIMESTAMP(6))");
                    ps.setLong(1, id);
                    ps.setLong(2, assignment);
                    ps.setLong(3, student);
                    ps.setString(4, token);
                } else {
                    ps = conn.prepareStatement("UPDATE submissions SET body = ?, status = 'graded' WHERE id = ?");
                    ps.setString(1, token);
                    ps.setLong(2, id);
                }
                sent = true;
                int rows = ps.executeUpdate();
                ps.close();
                ok = rows == 1;
                if (!ok) error = "affected " + rows + " rows";
            } catch (SQLException e) {
                error = e.getErrorCode() + ": " + String.valueOf(e.getMessage());
                if (error.length() > 160) error = error.substring(0, 160);
                String state = e.getSQLState() == null ? "" : e.getSQLState();
                // A lost connection after the statement was sent may or may not have committed.
                ambiguous = sent && (state.startsWith("08") || e.getErrorCode() == 0);
                try { if (conn != null) conn.close(); } catch (SQLException ignored) { }
                conn = null;
            }
            double t1 = now();
            String op = insert ? "insert" : "update";
            StringBuilder r = new StringBuilder();
            r.append("{\"seq\": ").append(seq).append(", \"op\": ").append(q(op)).append(", \"id\": ").append(id)
                    .append(", \"token\": ").append(q(token)).append(", \"t0\": ").append(t0).append(", \"t1\": ")
                    .append(t1).append(", \"ok\": ").append(ok);
            if (attemptConn > 0) r.append(", \"conn\": ").append(attemptConn).append(", \"conn_opened\": ")
                    .append(attemptOpened).append(", \"conn_server_id\": ").append(attemptSid);
            if (ok) r.append(", \"server_id\": ").append(serverId);
            if (error != null) r.append(", \"error\": ").append(q(error)).append(", \"ambiguous\": ").append(ambiguous);
            out.println(r.append("}"));
            out.flush();
            if (ok && insert) live.add(id);
            if (!ok && ambiguous) live.remove(id);  // unknown state: never touch this id again
            if (ok) backoffMs = 0; else { backoffMs = Math.min(400, Math.max(20, backoffMs * 2)); Thread.sleep(backoffMs); }
            next += interval;
            long delay = (long) ((next - now()) * 1000);
            if (delay > 0) Thread.sleep(delay); else next = now();
        }
        out.println("{\"end\": " + now() + ", \"ops\": " + n + "}");
        out.close();
        if (conn != null) conn.close();
    }
}
