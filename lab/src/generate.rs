//! Seeded, deterministic Firehose events for benchmarks, so anyone can
//! rebuild the exact bytes a figure was measured on.
//!
//! Records hold CloudWatch Logs batches as a busy account sends them: full
//! batches (1 MiB of messages or 10,000 events) of JSON application logs,
//! access-log lines, multi-line Java stack traces, long SQL statements and
//! non-ASCII text, gzipped at level 6, with a CONTROL_MESSAGE now and then.
//! The same seed gives the same bytes on every machine (no `rand`, no clock).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cwl_firehose::internals::{LogEvent, LogsDocument};
use cwl_firehose::{gzip, CONTROL_MESSAGE, DATA_MESSAGE};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;

/// The Lambda request limit is 6 MiB; Firehose sends at most about 6 MB.
pub const MAX_EVENT_BYTES: usize = 6_000_000;
pub const SMALL_EVENT_BYTES: usize = 1_000_000;
/// Inflated size of the bomb record: about 1,000:1 from gzip, so its record
/// stays under Firehose's 1,000 KiB limit while being far past any cap.
pub const BOMB_INFLATED_BYTES: usize = 1_000_000_000;

/// CloudWatch Logs' batch limits: events, and bytes (message + 26 per event).
const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;
const FIRST_MS: i64 = 1_764_300_000_000;
const STREAM_ARN: &str = "arn:aws:firehose:us-east-1:123456789012:deliverystream/cwl-logs";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    /// About 6 MB of request (the Lambda payload limit), 10-20 MB inflated.
    Max,
    /// About 1 MB of request.
    Small,
    /// A small event with one gzip-bomb record (1 GB of inflated whitespace) in the middle.
    Bomb,
}

/// The whole event for `size`, filled to `bytes` (or the size's default).
pub fn event(size: Size, seed: u64, bytes: Option<usize>) -> Vec<u8> {
    let target = bytes.unwrap_or(match size {
        Size::Max => MAX_EVENT_BYTES,
        Size::Small | Size::Bomb => SMALL_EVENT_BYTES,
    });
    let mut rng = Rng::new(seed);
    let head = format!(
        "{{\"invocationId\":\"{}\",\"deliveryStreamArn\":\"{STREAM_ARN}\",\"region\":\"us-east-1\",\"records\":[",
        rng.uuid()
    );
    let close = "\n]}\n";
    let mut entries: Vec<String> = Vec::new();
    let mut used = head.len() + close.len();
    let mut at_ms = FIRST_MS;
    loop {
        // A CONTROL_MESSAGE now and then (always the third record).
        let control = entries.len() == 2 || rng.below(20) == 0;
        let gz = if control {
            control_document(at_ms)
        } else {
            let source = Source::pick(&mut rng);
            let room = target.saturating_sub(used + 1);
            // Full batches first; the last record is cut to fill the rest.
            match fitting_batch(&mut rng, source, at_ms, room) {
                Some(gz) => gz,
                None => break,
            }
        };
        let entry = record_entry(&mut rng, &gz, at_ms);
        // One separator (a comma) per entry after the first.
        let size = entry.len() + usize::from(!entries.is_empty());
        if used + size > target {
            break;
        }
        used += size;
        entries.push(entry);
        at_ms += 1_000 + rng.below(4_000) as i64;
    }
    if size == Size::Bomb {
        // In the middle, so the records after it must still be done.
        let bomb = record_entry(&mut rng, &bomb_document(BOMB_INFLATED_BYTES), at_ms);
        entries.insert(entries.len() / 2, bomb);
    }
    let mut out = head.into_bytes();
    out.extend_from_slice(entries.join(",").as_bytes());
    out.extend_from_slice(close.as_bytes());
    out
}

/// `\n{"recordId":…,"data":"…"}`.
fn record_entry(rng: &mut Rng, gz: &[u8], at_ms: i64) -> String {
    let data = STANDARD.encode(gz);
    // Firehose record ids are long digit strings.
    let id = format!(
        "4954698668{:018}{:018}{:010}",
        rng.below(10u64.pow(18)),
        rng.below(10u64.pow(18)),
        rng.below(10u64.pow(10))
    );
    format!(
        "\n{{\"recordId\":\"{id}\",\"approximateArrivalTimestamp\":{at_ms},\"data\":\"{data}\"}}"
    )
}

/// A CloudWatch Logs batch of `source` lines that, encoded, fits `room`
/// bytes of request; `None` when not even a small batch fits.
fn fitting_batch(rng: &mut Rng, source: Source, at_ms: i64, room: usize) -> Option<Vec<u8>> {
    const ENTRY_OVERHEAD: usize = 140;
    // Logs compress 3-8x and base64 adds 4/3: start near what fits.
    let mut budget = MAX_BATCH_BYTES.min(room.saturating_mul(3));
    for _ in 0..12 {
        if room < ENTRY_OVERHEAD + 4096 {
            return None;
        }
        // Replay the same draws for each try, so the cut batch is a prefix.
        let mut attempt = rng.clone();
        let json = batch_document(&mut attempt, source, at_ms, budget);
        let gz = gzip(&json);
        let encoded = gz.len().div_ceil(3) * 4 + ENTRY_OVERHEAD;
        if encoded <= room {
            *rng = attempt;
            return Some(gz);
        }
        budget = budget * room / encoded * 95 / 100;
    }
    None
}

/// One DATA_MESSAGE document holding up to `budget` message bytes.
fn batch_document(rng: &mut Rng, source: Source, at_ms: i64, budget: usize) -> Vec<u8> {
    let (group, stream) = source.names(rng);
    let mut messages: Vec<(i64, String)> = Vec::new();
    let mut bytes = 0;
    let mut ms = at_ms - 60_000;
    let mut line = String::new();
    while messages.len() < MAX_BATCH_EVENTS {
        line.clear();
        source.message(rng, ms, &mut line);
        if bytes + line.len() + 26 > budget {
            break;
        }
        bytes += line.len() + 26;
        messages.push((ms, line.clone()));
        ms += rng.below(12) as i64;
    }
    let ids: Vec<String> = messages
        .iter()
        .map(|(ms, _)| {
            // CloudWatch Logs event ids: 56 digits, the high ones from the time.
            format!(
                "{:020}{:018}{:018}",
                ms.unsigned_abs() * 1_000_000,
                rng.below(10u64.pow(18)),
                rng.below(10u64.pow(18))
            )
        })
        .collect();
    let doc = LogsDocument {
        message_type: Cow::Borrowed(DATA_MESSAGE),
        owner: Cow::Borrowed("123456789012"),
        log_group: Cow::Owned(group),
        log_stream: Cow::Owned(stream),
        subscription_filters: vec![Cow::Borrowed("to-firehose")],
        log_events: messages
            .iter()
            .zip(&ids)
            .map(|((ms, m), id)| LogEvent {
                id: Cow::Borrowed(id),
                timestamp: *ms,
                message: Cow::Borrowed(m),
                extracted_fields: None,
            })
            .collect(),
    };
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// The subscription's health check, as CloudWatch Logs sends it.
fn control_document(at_ms: i64) -> Vec<u8> {
    let doc = format!(
        "{{\"messageType\":\"{CONTROL_MESSAGE}\",\"owner\":\"CloudwatchLogs\",\"logGroup\":\"\",\"logStream\":\"\",\
         \"subscriptionFilters\":[],\"logEvents\":[{{\"id\":\"\",\"timestamp\":{at_ms},\
         \"message\":\"CWL CONTROL MESSAGE: Checking health of destination Firehose.\"}}]}}"
    );
    gzip(doc.as_bytes())
}

/// gzip of a document start followed by whitespace up to `inflated` bytes
/// (1 GB in the bomb event): valid JSON so far, and about 1,000 times its
/// gzip size. Only a cap stops it.
pub fn bomb_document(inflated: usize) -> Vec<u8> {
    use flate2::write::GzEncoder;
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    let head =
        b"{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"123456789012\",\"logGroup\":\"/bomb\",\
                 \"logStream\":\"bomb\",\"subscriptionFilters\":[\"to-firehose\"],\"logEvents\":[";
    let chunk = vec![b' '; 1 << 20];
    let mut left = inflated.saturating_sub(head.len());
    let mut ok = gz.write_all(head).is_ok();
    while ok && left > 0 {
        let n = left.min(chunk.len());
        ok = gz.write_all(&chunk[..n]).is_ok();
        left -= n;
    }
    gz.finish().unwrap_or_default()
}

/// The kinds of log group in the event.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// Structured JSON application logs (a JSON object in the message).
    AppJson,
    /// Load-balancer / nginx access-log lines.
    Access,
    /// A Spring service: one-line logs and multi-line stack traces.
    Java,
    /// A database slow-query log: long SQL statements.
    Sql,
    /// A Lambda function logging in several languages, plus its platform lines.
    Lambda,
}

impl Source {
    fn pick(rng: &mut Rng) -> Self {
        match rng.below(100) {
            0..=34 => Self::AppJson,
            35..=59 => Self::Access,
            60..=74 => Self::Java,
            75..=84 => Self::Sql,
            _ => Self::Lambda,
        }
    }

    fn names(self, rng: &mut Rng) -> (String, String) {
        match self {
            Self::AppJson => (
                "/ecs/checkout-api".into(),
                format!("checkout-api/api/{}", rng.hex(32)),
            ),
            Self::Access => (
                "/aws/elasticbeanstalk/shop-web/var/log/nginx/access.log".into(),
                format!("i-0{}", rng.hex(16)),
            ),
            Self::Java => (
                "/ecs/billing-worker".into(),
                format!("billing-worker/worker/{}", rng.hex(32)),
            ),
            Self::Sql => (
                "/aws/rds/instance/orders-db/slowquery".into(),
                "orders-db".into(),
            ),
            Self::Lambda => (
                "/aws/lambda/notify-users".into(),
                format!("2025/11/28/[$LATEST]{}", rng.hex(32)),
            ),
        }
    }

    fn message(self, rng: &mut Rng, ms: i64, out: &mut String) {
        match self {
            Self::AppJson => app_json(rng, ms, out),
            Self::Access => access(rng, ms, out),
            Self::Java => java(rng, ms, out),
            Self::Sql => sql(rng, ms, out),
            Self::Lambda => lambda(rng, ms, out),
        }
    }
}

const NAMES: &[&str] = &[
    "Alice Martin",
    "José Müller",
    "Zoë Ångström",
    "山田太郎",
    "Олег Смирнов",
    "François Dubois",
    "Björk Guðmundsdóttir",
    "김민준",
    "محمد علي",
    "Bob Smith",
    "Priya Raghunathan",
    "Łukasz Wójcik",
];
const PATHS: &[&str] = &[
    "/api/v1/orders",
    "/api/v1/orders/{}",
    "/api/v1/cart/{}/items",
    "/api/v1/products?page={}&sort=price",
    "/api/v1/customers/{}/addresses",
    "/health",
    "/api/v1/checkout/{}/payment",
    "/static/js/app.{}.js",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "ELB-HealthChecker/2.0",
    "okhttp/4.12.0",
    "curl/8.5.0",
];
const STATUS: &[u32] = &[
    200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 503,
];
const ERRORS: &[&str] = &[
    "connection reset by peer",
    "context deadline exceeded",
    "upstream returned \"502 Bad Gateway\"",
    "card declined: insufficient_funds",
    "duplicate key value violates unique constraint \"orders_pkey\"",
];

fn path(rng: &mut Rng, out: &mut String) {
    let p = *rng.pick(PATHS);
    let n = rng.below(100_000);
    out.push_str(&p.replace("{}", &n.to_string()));
}

fn iso(ms: i64, out: &mut String) {
    let mut v = Vec::with_capacity(24);
    cwl_firehose::internals::push_iso8601(&mut v, ms);
    out.push_str(std::str::from_utf8(&v).unwrap_or_default());
}

fn ip(rng: &mut Rng, out: &mut String) {
    let _ = write!(
        out,
        "10.{}.{}.{}",
        rng.below(8),
        rng.below(256),
        1 + rng.below(254)
    );
}

fn app_json(rng: &mut Rng, ms: i64, out: &mut String) {
    let level = match rng.below(100) {
        0..=79 => "info",
        80..=91 => "debug",
        92..=96 => "warn",
        _ => "error",
    };
    out.push_str("{\"level\":\"");
    out.push_str(level);
    out.push_str("\",\"time\":\"");
    iso(ms, out);
    out.push_str("\",\"logger\":\"http.access\",\"msg\":\"");
    out.push_str(if level == "error" {
        "request failed"
    } else {
        "request completed"
    });
    out.push_str("\",\"method\":\"");
    out.push_str(rng.pick::<&str>(METHODS));
    out.push_str("\",\"path\":\"");
    path(rng, out);
    let _ = write!(
        out,
        "\",\"status\":{},\"duration_ms\":{}.{:03},\"bytes\":{},\"request_id\":\"{}\",\"trace_id\":\"1-{}-{}\",\"span_id\":\"{}\",\"session\":\"{}\",",
        rng.pick(STATUS),
        rng.below(900),
        rng.below(1000),
        rng.below(200_000),
        rng.uuid(),
        rng.hex(8),
        rng.hex(24),
        rng.hex(16),
        rng.token(22)
    );
    let _ = write!(
        out,
        "\"user\":{{\"id\":{},\"name\":\"{}\",\"locale\":\"{}\"}},\"client_ip\":\"",
        rng.below(1_000_000),
        rng.pick(NAMES),
        rng.pick(&["en-US", "de-DE", "ja-JP", "fr-FR", "ru-RU", "pl-PL"])
    );
    ip(rng, out);
    out.push('"');
    if level == "error" {
        let _ = write!(
            out,
            ",\"error\":\"{}\"",
            rng.pick(ERRORS).replace('"', "\\\"")
        );
    }
    out.push('}');
}

fn access(rng: &mut Rng, ms: i64, out: &mut String) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let (y, m, d) = cwl_firehose::internals::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    ip(rng, out);
    let _ = write!(
        out,
        " - - [{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000] \"{} ",
        MONTHS[((m - 1).clamp(0, 11)) as usize],
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        rng.pick(METHODS)
    );
    path(rng, out);
    let rt = rng.below(2_000);
    let _ = write!(
        out,
        " HTTP/1.1\" {} {} \"https://shop.example.com/",
        rng.pick(STATUS),
        rng.below(300_000)
    );
    path(rng, out);
    let _ = write!(
        out,
        "\" \"{}\" \"Root=1-{}-{}\" rt={}.{:03} uct=\"0.00{}\" uht=\"{}.{:03}\" urt=\"{}.{:03}\"",
        rng.pick(AGENTS),
        rng.hex(8),
        rng.hex(24),
        rt / 1000,
        rt % 1000,
        rng.below(10),
        rt / 1000,
        rt % 1000 * 9 / 10,
        rt / 1000,
        rt % 1000 * 9 / 10
    );
}

const FRAMES: &[&str] = &[
    "org.springframework.jdbc.support.SQLStateSQLExceptionTranslator.doTranslate(SQLStateSQLExceptionTranslator.java:107)",
    "org.springframework.jdbc.core.JdbcTemplate.translateException(JdbcTemplate.java:1548)",
    "org.springframework.jdbc.core.JdbcTemplate.execute(JdbcTemplate.java:667)",
    "org.hibernate.engine.jdbc.internal.ResultSetReturnImpl.extract(ResultSetReturnImpl.java:57)",
    "org.hibernate.loader.Loader.getResultSet(Loader.java:2341)",
    "com.zaxxer.hikari.pool.ProxyPreparedStatement.executeQuery(ProxyPreparedStatement.java:52)",
    "com.example.billing.InvoiceRepository.findOpenInvoices(InvoiceRepository.java:88)",
    "com.example.billing.PaymentWorker.capture(PaymentWorker.java:143)",
    "com.example.billing.PaymentWorker.lambda$run$0(PaymentWorker.java:97)",
    "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1144)",
    "java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:642)",
    "java.base/java.lang.Thread.run(Thread.java:1583)",
    "io.netty.channel.nio.NioEventLoop.run(NioEventLoop.java:569)",
    "reactor.core.publisher.MonoFlatMap$FlatMapMain.onNext(MonoFlatMap.java:132)",
];

fn java(rng: &mut Rng, ms: i64, out: &mut String) {
    iso(ms, out);
    // Spring's trace and span ids, as its log pattern prints them.
    let _ = write!(out, " [billing-worker,{},{}]", rng.hex(16), rng.hex(16));
    let thread = rng.below(16);
    if rng.below(25) != 0 {
        let _ = write!(
            out,
            "  INFO 1 --- [nio-8080-exec-{thread}] c.e.billing.InvoiceService : Invoice {} generated for customer {} in {} ms",
            rng.below(10_000_000),
            rng.below(1_000_000),
            rng.below(400)
        );
        return;
    }
    let _ = write!(
        out,
        " ERROR 1 --- [pool-3-thread-{thread}] c.e.billing.PaymentWorker : Payment capture failed for order {}\n\
         org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection; nested exception is java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms.\n",
        rng.below(10_000_000)
    );
    let frames = 12 + rng.below(30) as usize;
    for _ in 0..frames {
        out.push_str("\tat ");
        out.push_str(rng.pick::<&str>(FRAMES));
        out.push('\n');
    }
    out.push_str("Caused by: java.net.SocketTimeoutException: Read timed out\n");
    for _ in 0..(4 + rng.below(8)) {
        out.push_str("\tat ");
        out.push_str(rng.pick::<&str>(FRAMES));
        out.push('\n');
    }
    let _ = write!(out, "\t... {} more", 20 + rng.below(40));
}

fn sql(rng: &mut Rng, ms: i64, out: &mut String) {
    out.push_str("# Time: ");
    iso(ms, out);
    let _ = write!(
        out,
        "\n# User@Host: app[app] @  [{}]  Id: {}\n# Query_time: {}.{:06}  Lock_time: 0.{:06} Rows_sent: {}  Rows_examined: {}\nSET timestamp={};\n",
        { let mut s = String::new(); ip(rng, &mut s); s },
        rng.below(100_000),
        rng.below(20),
        rng.below(1_000_000),
        rng.below(1000),
        rng.below(500),
        rng.below(5_000_000),
        ms / 1000
    );
    out.push_str(
        "SELECT o.id, o.customer_id, o.status, o.total_cents, o.currency, o.created_at, \
         c.email, c.display_name, a.line1, a.city, a.postal_code, a.country_code, \
         COUNT(i.id) AS item_count, SUM(i.quantity * i.unit_price_cents) AS items_cents \
         FROM orders o JOIN customers c ON c.id = o.customer_id \
         LEFT JOIN addresses a ON a.id = o.shipping_address_id \
         LEFT JOIN order_items i ON i.order_id = o.id \
         WHERE o.status IN ('PAID', 'SHIPPED', 'PARTIALLY_REFUNDED') AND o.created_at >= '2025-11-01 00:00:00' \
         AND c.display_name <> 'Müller & Söhne' AND o.customer_id IN (",
    );
    let n = 20 + rng.below(600);
    for k in 0..n {
        if k > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}", rng.below(10_000_000));
    }
    out.push_str(
        ") GROUP BY o.id, c.id, a.id HAVING SUM(i.quantity) > 0 ORDER BY o.created_at DESC LIMIT 50;",
    );
}

const I18N: &[&str] = &[
    "ユーザー {} にメール通知を送信しました (テンプレート: 注文確認)",
    "Уведомление отправлено пользователю {}: «Ваш заказ оплачен»",
    "Benachrichtigung an Kunde {} gesendet ✓ (Größe: 12 KB, Straße geändert)",
    "通知已发送给用户 {} 🚀 订单已发货",
    "Notification envoyée à l'utilisateur {} — « Votre commande est prête »",
    "사용자 {} 에게 푸시 알림을 보냈습니다",
    "تم إرسال الإشعار إلى المستخدم {}",
    "sent push notification to user {} (apns, 231 ms)",
];

fn lambda(rng: &mut Rng, ms: i64, out: &mut String) {
    let request = rng.uuid();
    match rng.below(10) {
        0 => {
            let _ = writeln!(out, "START RequestId: {request} Version: $LATEST");
        }
        1 => {
            let _ = writeln!(out, "END RequestId: {request}");
        }
        2 => {
            let d = rng.below(90_000);
            let _ = writeln!(
                out,
                "REPORT RequestId: {request}\tDuration: {}.{:02} ms\tBilled Duration: {} ms\tMemory Size: 128 MB\tMax Memory Used: {} MB\t",
                d / 100,
                d % 100,
                d / 100 + 1,
                40 + rng.below(60)
            );
        }
        _ => {
            iso(ms, out);
            out.push('\t');
            out.push_str(&request);
            out.push_str("\tINFO\t");
            let text = rng
                .pick(I18N)
                .replace("{}", &rng.below(1_000_000).to_string());
            out.push_str(&text);
            out.push('\n');
        }
    }
}

/// SplitMix64: tiny, seedable and the same everywhere.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x6a09_e667_f3bc_c909)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n.max(1))) >> 64) as u64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.below(items.len() as u64) as usize;
        &items[i.min(items.len() - 1)]
    }

    fn hex(&mut self, n: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        (0..n)
            .map(|_| char::from(HEX[(self.next() & 15) as usize]))
            .collect()
    }

    /// base64url characters, like a session or API token.
    fn token(&mut self, n: usize) -> String {
        const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..n)
            .map(|_| char::from(URL[(self.next() & 63) as usize]))
            .collect()
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
}
