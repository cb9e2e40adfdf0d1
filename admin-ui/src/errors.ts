// What a failed call says to the operator: one translated sentence per
// problem `code` the API can return (docs/api.md "Errors", src/error.rs),
// never the developer's `detail`. A failure without an answer (offline) and
// an answer that is not the API's JSON (a proxy's HTML page) are told apart.
import { ApiError, NetworkError, NotJsonError, TimeoutError } from "./api";
import { currentLang, type Text } from "./i18n";

const t = (ko: string, en: string): Text => ({ ko, en });

export const PROBLEMS: Record<string, Text> = {
  invalid_json: t("요청 본문이 올바른 JSON이 아닙니다.", "The request body is not valid JSON."),
  invalid_body: t("요청 본문의 형식이 올바르지 않습니다.", "The request body does not have the expected shape."),
  invalid_sent_at: t("sent_at 시각의 형식이 올바르지 않습니다.", "The sent_at time is not in the expected format."),
  unknown_field: t("알 수 없는 항목이 포함되어 있습니다.", "The request holds a field the server does not know."),
  unknown_parameter: t("화면이 알 수 없는 조건을 보냈습니다. 새로고침 후 다시 시도하세요.", "The screen sent a condition the server does not know. Reload and try again."),
  repeated_parameter: t("같은 조건이 두 번 들어갔습니다. 조건을 확인하세요.", "A condition was given twice. Check the filters."),
  parameter_too_long: t("입력한 값이 너무 깁니다. 더 짧게 입력하세요.", "A value you entered is too long. Shorten it."),
  invalid_date: t("날짜 형식이 올바르지 않습니다.", "A date is not in a valid format."),
  invalid_range: t("끝 날짜가 시작 날짜보다 뒤여야 합니다.", "The end date must be after the start date."),
  range_too_long: t("기간은 최대 400일까지 조회할 수 있습니다. 기간을 줄이세요.", "A period can be at most 400 days. Shorten it."),
  invalid_tz: t("알 수 없는 시간대입니다.", "That time zone is not known."),
  invalid_bucket: t("묶음 단위는 일 또는 시간만 가능합니다.", "Buckets can only be by day or by hour."),
  invalid_breakdown: t("퍼널은 이메일 도메인, 소스, 테넌트 또는 단계가 선언한 속성으로만 나눌 수 있습니다.", "A funnel can be split only by email domain, source, tenant or a property its steps declare."),
  invalid_after_id: t("다시 만들기를 이어갈 위치(after_id)가 올바르지 않습니다. 이전 단계의 next_after_id를 쓰세요.", "The point to continue the rebuild from (after_id) is not valid. Use the previous step's next_after_id."),
  invalid_limit: t("한 번에 불러올 개수가 허용 범위를 벗어났습니다.", "The number of rows asked for is out of range."),
  invalid_bookmark: t("읽기 일관성 표시(bookmark)가 올바르지 않아 지웠습니다. 다시 시도하세요.", "The read-consistency bookmark was not valid and has been cleared. Try again."),
  invalid_cursor: t("목록이 바뀌어 이어서 불러올 수 없습니다. 처음부터 다시 불러오세요.", "The list changed, so it cannot continue. Load it again from the start."),
  unknown_event_type: t("카탈로그에 없는 이벤트 유형입니다. 이벤트 카탈로그에서 이름을 확인하세요.", "That event type is not in the catalog. Check its name in the event catalog."),
  too_many_types: t("이벤트 유형은 한 번에 50개까지 지정할 수 있습니다.", "At most 50 event types can be given at once."),
  invalid_email: t("이메일 주소나 @도메인 형식으로 입력하세요.", "Enter an email address or an @domain."),
  invalid_fingerprint: t("지문은 소문자 16진수 64자여야 합니다.", "A fingerprint is 64 lowercase hex characters."),
  conflicting_parameters: t("이메일과 지문은 함께 검색할 수 없습니다. 하나만 입력하세요.", "Search by email or by fingerprint, not both."),
  invalid_trace_id: t("trace_id는 trace_로 시작하고 128자 이하여야 합니다.", "A trace_id starts with trace_ and is at most 128 characters."),
  invalid_source: t("소스 이름 형식이 올바르지 않습니다 (영소문자, 숫자, _, -; 32자 이하).", "A source is lowercase letters, digits, _ or -, at most 32 characters."),
  invalid_success: t("결과는 성공 또는 실패만 고를 수 있습니다.", "The result can only be success or failure."),
  invalid_format: t("내보내기 형식은 CSV 또는 GA4만 가능합니다.", "The export format can only be CSV or GA4."),
  invalid_archived_before: t("내보내기 이어받기 위치가 올바르지 않습니다. 앞 응답의 값을 그대로 쓰세요.", "The export's continuation point is not valid. Use the value of the previous answer as it is."),
  invalid_after: t("이어서 재처리할 위치가 올바르지 않습니다. 처음부터 다시 실행하세요.", "The position to continue from is not valid. Run it again from the start."),
  invalid_hour: t("시간은 YYYY-MM-DDTHH (UTC) 형식으로 입력하세요.", "Enter the hour as YYYY-MM-DDTHH (UTC)."),
  invalid_status: t("격리함 상태 조건이 올바르지 않습니다.", "The quarantine status filter is not valid."),
  unknown_funnel: t("그런 이름의 퍼널이 없습니다.", "There is no funnel of that name."),
  invalid_month: t("월은 YYYY-MM 형식으로 입력하세요.", "Enter the month as YYYY-MM."),
  invalid_subject_kind: t("대상 종류는 사용자 또는 테넌트여야 합니다.", "The subject kind must be user or tenant."),
  invalid_subject_id: t("사용자 ID는 비어 있지 않고 128자 이하여야 합니다.", "The user id must be non-empty and at most 128 characters."),
  invalid_user_id: t("사용자 ID는 비어 있지 않고 128자 이하여야 합니다.", "The user id must be non-empty and at most 128 characters."),
  invalid_erasure_id: t("삭제 요청 ID 형식이 올바르지 않습니다.", "The erasure request id is not valid."),
  invalid_suppress: t("재수집 차단 여부는 예 또는 아니오여야 합니다.", "Suppression must be yes or no."),
  unknown_action: t("한도가 정의되지 않은 액션입니다.", "That action has no quota."),
  invalid_monthly_limit: t("월 한도는 0부터 1,000,000,000 사이의 정수여야 합니다.", "A monthly limit is a whole number from 0 to 1,000,000,000."),
  missing_credentials: t("API 키가 없습니다. 키를 입력하세요.", "No API key was sent. Enter your key."),
  malformed_signature: t("요청 서명 형식이 올바르지 않습니다.", "The request signature is malformed."),
  bad_signature: t("요청 서명이 맞지 않습니다.", "The request signature does not match."),
  stale_signature: t("요청 서명 시각이 너무 오래되었습니다. 시계를 확인하세요.", "The request signature is too old. Check the clock."),
  bad_key: t("키가 거부되었거나 입력되지 않았습니다. 키를 다시 입력하세요.", "The key was refused or not entered. Enter your key again."),
  bad_publishable_key: t("공개 키(pk_…)가 설정된 사이트 키가 아닙니다.", "The publishable key (pk_…) is not a configured site key."),
  origin_not_allowed: t("이 페이지의 출처는 공개 키에 등록되어 있지 않습니다.", "This page's origin is not listed for the publishable key."),
  rate_limited: t("요청이 너무 많습니다. 잠시 후 다시 시도하세요.", "Too many requests. Try again in a moment."),
  not_browser_safe: t("이 이벤트 유형은 브라우저에서 보낼 수 없습니다.", "This event type cannot be sent from a browser."),
  insufficient_scope: t("이 키의 역할로는 이 작업을 할 수 없습니다. 권한이 있는 키로 다시 시도하세요.", "This key's role does not allow this. Try again with a key that may do it."),
  quota_exceeded: t("월 사용 한도를 넘었습니다.", "The monthly quota is used up."),
  not_found: t("요청한 주소를 찾을 수 없습니다.", "Nothing was found at that address."),
  method_not_allowed: t("이 주소는 이런 요청을 받지 않습니다.", "That address does not take this kind of request."),
  payload_too_large: t("보낸 데이터가 너무 큽니다.", "The data sent is too large."),
  too_many_events: t("한 번에 보낸 이벤트가 너무 많습니다 (최대 500개).", "Too many events in one request (at most 500)."),
  unsupported_media_type: t("JSON으로 보내야 합니다.", "The body must be sent as JSON."),
  all_events_rejected: t("보낸 이벤트가 모두 거부되었습니다. 격리함에서 사유를 확인하세요.", "Every event sent was rejected. See the reasons in the quarantine."),
  storage_unavailable: t("데이터베이스에 잠시 연결할 수 없습니다. 잠시 후 다시 시도하세요.", "The database cannot be reached right now. Try again in a moment."),
  archived_hours_present: t("보관소로 옮긴 시간이 있어 저장된 행으로 다시 계산할 수 없습니다. 다시 계산하면 보관된 이벤트가 빠집니다.", "Some hours are archived, so this cannot be rebuilt from the stored rows: a rebuild would drop the archived events."),
  archive_unavailable: t("보관소(R2)의 지난 이벤트를 지금 읽을 수 없습니다. 잠시 후 다시 시도하거나 최근 기간으로 좁히세요.", "The archive of older events cannot be read right now. Try again in a moment, or narrow the range to recent events."),
  misconfigured: t("서버 설정이 빠져 있습니다. 운영 담당자에게 알려 주세요.", "The server is missing a setting. Tell whoever runs it."),
  internal_error: t("서버에서 예기치 못한 오류가 났습니다. 다시 시도하고, 계속되면 운영 담당자에게 알려 주세요.", "The server hit an unexpected error. Try again; if it keeps happening, tell whoever runs it."),
};

const NETWORK = t("서버에 연결할 수 없습니다. 네트워크 연결을 확인한 뒤 다시 시도하세요.", "The server cannot be reached. Check the network connection and try again.");
const TIMEOUT = t("서버가 제때 응답하지 않았습니다 (두 번 기다렸습니다). 잠시 후 다시 시도하세요.", "The server did not answer in time (asked twice). Try again in a moment.");
const NOT_JSON = t("서버 대신 다른 곳(프록시 등)이 응답했습니다 (HTTP {status}). 잠시 후 다시 시도하세요.", "Something other than the API answered (a proxy, say; HTTP {status}). Try again in a moment.");
const UNKNOWN = t("알 수 없는 오류가 났습니다 ({code}). 다시 시도하세요.", "An unknown error happened ({code}). Try again.");

/** The failure's kind, as the error state's `data-code` shows it. */
export function problemCode(e: unknown): string {
  if (e instanceof ApiError) return e.code;
  if (e instanceof NetworkError) return "network";
  if (e instanceof TimeoutError) return "timeout";
  if (e instanceof NotJsonError) return "not_json";
  return "error";
}

/** One sentence in the operator's language. */
export function problemText(e: unknown): string {
  const lang = currentLang();
  if (e instanceof ApiError) return PROBLEMS[e.code]?.[lang] ?? UNKNOWN[lang].replace("{code}", e.code);
  if (e instanceof NetworkError) return NETWORK[lang];
  if (e instanceof TimeoutError) return TIMEOUT[lang];
  if (e instanceof NotJsonError) return NOT_JSON[lang].replace("{status}", String(e.status));
  return UNKNOWN[lang].replace("{code}", e instanceof Error ? e.name : "error");
}

/** Whether trying the same thing again may work (not an input mistake or a role too small). */
export function retryable(e: unknown): boolean {
  if (e instanceof ApiError) return e.status >= 500 || e.code === "invalid_cursor" || e.code === "invalid_bookmark";
  return true;
}
