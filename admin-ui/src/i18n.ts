// Korean first: the operators' language. The language follows the browser and can be switched.
export type Lang = "ko" | "en";
export type Text = { ko: string; en: string };

const LANG_KEY = "funnel.lang";

const dict = {
  title: { ko: "퍼널 콘솔", en: "Funnel console" },
  summary: { ko: "요약", en: "Summary" },
  trends: { ko: "추이", en: "Trends" },
  funnel: { ko: "퍼널", en: "Funnel" },
  feed: { ko: "이벤트 피드", en: "Event feed" },
  ops: { ko: "운영 렌즈", en: "Ops lenses" },
  catalog: { ko: "이벤트 카탈로그", en: "Event catalog" },
  quarantine: { ko: "격리함", en: "Quarantine" },
  usage: { ko: "사용량", en: "Usage" },
  trace: { ko: "트레이스", en: "Trace" },
  audit: { ko: "접근 기록", en: "Access log" },
  alerts: { ko: "알림", en: "Alerts" },
  alertsOpen: { ko: "진행 중인 알림", en: "Open incidents" },
  alertsRecent: { ko: "최근 7일 해결된 알림", en: "Resolved in the last 7 days" },
  alertsNoneOpen: { ko: "진행 중인 알림이 없습니다.", en: "No open incident." },
  alertsNoneRecent: { ko: "최근 해결된 알림이 없습니다.", en: "No incident resolved recently." },
  alertRules: { ko: "알림 규칙", en: "Alert rules" },
  alertRule: { ko: "규칙", en: "Rule" },
  alertScope: { ko: "대상", en: "Scope" },
  alertOpenedAt: { ko: "발생", en: "Opened" },
  alertResolvedAt: { ko: "해결", en: "Resolved" },
  alertNotified: { ko: "웹훅 전송", en: "Posted" },
  alertWebhooks: { ko: "알림을 보내는 웹훅", en: "Webhooks posted to" },
  alertNoWebhook: { ko: "웹훅이 설정되지 않아 알림은 기록만 됩니다.", en: "No webhook is configured: incidents are recorded only." },
  yes: { ko: "예", en: "Yes" },
  no: { ko: "아니요", en: "No" },
  today: { ko: "오늘", en: "Today" },
  days7: { ko: "7일", en: "7 days" },
  days14: { ko: "14일", en: "14 days" },
  days30: { ko: "30일", en: "30 days" },
  custom: { ko: "직접 지정", en: "Custom" },
  from: { ko: "시작", en: "From" },
  to: { ko: "끝", en: "To" },
  tz: { ko: "시간대", en: "Time zone" },
  apply: { ko: "적용", en: "Apply" },
  loading: { ko: "불러오는 중…", en: "Loading…" },
  empty: { ko: "데이터가 없습니다.", en: "No data." },
  error: { ko: "오류", en: "Error" },
  retry: { ko: "다시 시도", en: "Retry" },
  keyPrompt: { ko: "API 키를 입력하세요", en: "Enter your API key" },
  keyHint: { ko: "키는 이 탭(sessionStorage)에만 보관됩니다.", en: "The key stays in this tab only (sessionStorage)." },
  keyRejected: { ko: "키가 거부되었습니다. 다시 입력하세요.", en: "The key was refused. Enter it again." },
  signIn: { ko: "확인", en: "Continue" },
  signOut: { ko: "키 지우기", en: "Forget key" },
  keyRole: { ko: "키 이름 · 역할", en: "Key name · role" },
  forbidden: {
    ko: "이 키의 역할로는 이 작업을 할 수 없습니다. 권한이 있는 키로 다시 시도하세요.",
    en: "This key's role does not allow this. Try again with a key that may do it.",
  },
  ingestOnly: {
    ko: "이 키는 이벤트 전송(ingest) 전용이라 데이터를 읽을 수 없습니다.",
    en: "This key can only send events (ingest); it cannot read any data.",
  },
  otherKey: { ko: "다른 키 입력", en: "Enter another key" },
  vsPrevious: { ko: "이전 기간 대비", en: "vs previous period" },
  estimate: { ko: "추정치(샘플링)", en: "estimate (sampled)" },
  time: { ko: "시각", en: "Time" },
  type: { ko: "유형", en: "Type" },
  service: { ko: "서비스", en: "Service" },
  email: { ko: "이메일", en: "Email" },
  result: { ko: "결과", en: "Result" },
  errorCode: { ko: "에러 코드", en: "Error code" },
  detail: { ko: "상세", en: "Detail" },
  tenant: { ko: "테넌트", en: "Tenant" },
  source: { ko: "소스", en: "Source" },
  success: { ko: "성공", en: "Success" },
  failure: { ko: "실패", en: "Failure" },
  any: { ko: "전체", en: "Any" },
  filter: { ko: "필터", en: "Filter" },
  clear: { ko: "초기화", en: "Clear" },
  loadMore: { ko: "더 보기", en: "Load more" },
  live: { ko: "실시간", en: "Live" },
  openTrace: { ko: "트레이스 열기", en: "Open trace" },
  tracePlaceholder: { ko: "trace_id 붙여넣기", en: "Paste a trace_id" },
  personEvents: { ko: "이 사람의 이벤트", en: "This person's events" },
  drills: { ko: "바로 가기", en: "Open in" },
  drillStripe: { ko: "Stripe 대시보드", en: "Stripe Dashboard" },
  drillTenant: { ko: "테넌트 온보딩", en: "Tenant onboarding" },
  elapsed: { ko: "경과", en: "Elapsed" },
  services: { ko: "서비스", en: "Services" },
  sources: { ko: "소스", en: "Sources" },
  failures: { ko: "실패", en: "Failures" },
  step: { ko: "단계", en: "Step" },
  count: { ko: "수", en: "Count" },
  conversion: { ko: "전환율", en: "Conversion" },
  dropOff: { ko: "이탈 (에러 코드별)", en: "Drop-off by error code" },
  overall: { ko: "전체 전환율", en: "Overall conversion" },
  health: { ko: "서비스 상태", en: "Service health" },
  lastSeen: { ko: "마지막 수신", en: "Last seen" },
  events: { ko: "이벤트", en: "Events" },
  users: { ko: "사용자", en: "Users" },
  sessions: { ko: "세션", en: "Sessions" },
  revenue: { ko: "매출", en: "Revenue" },
  recent: { ko: "최근 이벤트", en: "Recent events" },
  topEvents: { ko: "상위 이벤트", en: "Top events" },
  firstSeen: { ko: "처음 수신", en: "First seen" },
  rejected: { ko: "거부", en: "Rejected" },
  rejectionRate: { ko: "거부율", en: "Rejection rate" },
  sampledOut: { ko: "샘플링 제외", en: "Sampled out" },
  replay: { ko: "재처리", en: "Replay" },
  replayDone: { ko: "재처리 결과", en: "Replay result" },
  reasons: { ko: "사유", en: "Reasons" },
  status: { ko: "상태", en: "Status" },
  action: { ko: "액션", en: "Action" },
  used: { ko: "사용", en: "Used" },
  limit: { ko: "한도", en: "Limit" },
  remaining: { ko: "남음", en: "Remaining" },
  overQuota: { ko: "한도 도달 사용자", en: "Users at their limit" },
  month: { ko: "월", en: "Month" },
  userId: { ko: "사용자 ID", en: "User ID" },
  lookup: { ko: "조회", en: "Look up" },
  key: { ko: "키", en: "Key" },
  route: { ko: "경로", en: "Route" },
  kind: { ko: "종류", en: "Kind" },
  subject: { ko: "대상", en: "Subject" },
  rows: { ko: "행 수", en: "Rows" },
  auditHint: {
    ko: "사람을 지목한 조회, 내보내기, 관리자 변경이 기록됩니다. 이메일 주소는 지문으로만 남습니다.",
    en: "Reads that name a person, exports and admin changes are logged. Addresses appear only as fingerprints.",
  },
  progress: { ko: "긴 기간을 불러오는 중", en: "Loading a long range" },
  lens_funnel: { ko: "인증·결제 퍼널", en: "Auth & checkout funnel" },
  lens_revenue: { ko: "매출", en: "Revenue" },
  lens_content: { ko: "콘텐츠·리포트", en: "Content & reports" },
  lens_workspace: { ko: "워크스페이스", en: "Workspace" },
  lens_engagement: { ko: "참여", en: "Engagement" },
  lens_usage: { ko: "월간 사용량", en: "Monthly usage" },
  dateMissing: { ko: "시작과 끝 날짜를 모두 고르세요.", en: "Pick both a start and an end date." },
  dateOrder: { ko: "끝 날짜가 시작 날짜보다 앞설 수 없습니다.", en: "The end date cannot be before the start date." },
  dateTooLong: { ko: "기간은 최대 400일입니다.", en: "A period is at most 400 days." },
  period: { ko: "기간", en: "Period" },
  screens: { ko: "화면", en: "Screens" },
  skip: { ko: "본문으로 건너뛰기", en: "Skip to content" },
  better: { ko: "좋아짐", en: "better" },
  worse: { ko: "나빠짐", en: "worse" },
  same: { ko: "변화 없음", en: "no change" },
  running: { ko: "진행 중인 기간(점선)은 아직 끝나지 않았습니다.", en: "The running period (dashed) is not over yet." },
  comparedElapsed: { ko: "이전 기간의 같은 경과 시간과 비교", en: "compared with the same elapsed time of the previous period" },
  chartTable: { ko: "표로 보기", en: "Show as a table" },
  series: { ko: "계열 선택", en: "Pick series" },
  seriesHint: { ko: "기본은 이벤트가 많은 상위 5개입니다. 최대 10개까지 고를 수 있습니다.", en: "By default the top 5 by volume. Pick up to 10." },
  rates: { ko: "비율 추이 (%)", en: "Rates over time (%)" },
  rateSeriesHint: { ko: "기본은 결제 완료율과 OTP 발송 실패율입니다. 분모가 0인 날(또는 시간)은 값이 없어 선이 끊기고 표에는 –로 표시됩니다.", en: "By default the checkout completion and OTP failure rates. A day (or hour) whose denominator is 0 has no value: a gap in the line, – in the table." },
  date: { ko: "날짜", en: "Date" },
  hour: { ko: "시각", en: "Hour" },
  errorRate: { ko: "오류율", en: "Error rate" },
  change: { ko: "이전 기간 대비", en: "Change" },
  failingTypes: { ko: "실패한 유형", en: "Failing types" },
  state_live: { ko: "정상", en: "Live" },
  state_failing: { ko: "오류 많음", en: "Failing" },
  state_quiet: { ko: "조용함", en: "Quiet" },
  state_idle: { ko: "기간 내 이벤트 없음", en: "No events in period" },
  state_silent: { ko: "수신 기록 없음", en: "Never sent" },
  stateHint: {
    ko: "상태는 보이는 기간 기준입니다: 기간 내 이벤트가 없으면 '기간 내 이벤트 없음', 오류율 20% 이상이면 '오류 많음', 진행 중인 기간에 24시간 넘게 수신이 없으면 '조용함'.",
    en: "State is for the period shown: no events in it is 'No events in period', an error rate of 20% or more is 'Failing', and a running period with nothing for 24 hours is 'Quiet'.",
  },
  refreshing: { ko: "최근 이벤트는 15초마다 새로 고칩니다(탭이 숨겨지면 멈춤).", en: "Recent events refresh every 15 s (paused while the tab is hidden)." },
  noTrace: {
    ko: "이 trace_id의 이벤트가 없습니다. 오타이거나, 보관 기간이 지났거나, 아직 전송되지 않았을 수 있습니다.",
    en: "No events have this trace_id. It may be mistyped, past retention, or not sent yet.",
  },
  duration: { ko: "소요 시간", en: "Duration" },
  waterfall: { ko: "타임라인", en: "Waterfall" },
  properties: { ko: "속성", en: "Properties" },
  user: { ko: "사용자", en: "User" },
  session: { ko: "세션", en: "Session" },
  sessionId: { ko: "세션 ID", en: "Session ID" },
  eventDetails: { ko: "이벤트 상세", en: "Event details" },
  showDetails: { ko: "상세 보기", en: "Show details" },
  servicesNow: { ko: "수신 중인 서비스", en: "Services sending" },
  servicesNowHint: {
    ko: "지금 기준 상태입니다: 정상 = 최근 24시간 내 수신, 조용함 = 그보다 오래됨, 수신 기록 없음 = 보낸 적 없음.",
    en: "State as of now: Live = sent in the last 24 hours, Quiet = longer ago, Never sent = nothing received yet.",
  },
  person: { ko: "사람", en: "Person" },
  funnelExplain: {
    ko: "퍼널은 단계를 순서대로 밟은 대상(trace 하나, trace가 없으면 사용자)을 셉니다. 요약 카드는 기간 내 이벤트 수를 셉니다. 그래서 같은 기간이라도 요약의 비율(이벤트 수 대비)과 퍼널의 전환율(이전 단계에 도달한 대상 대비)은 다를 수 있습니다.",
    en: "The funnel counts subjects (a trace, or the user when there is none) that took the steps in order. The summary cards count events in the period. So over the same period the summary's ratio (events over events) and the funnel's conversion (subjects that reached the previous step) can differ.",
  },
  noErrorCode: { ko: "에러 코드 없음(이탈)", en: "no error code (left)" },
  droppedSubjects: { ko: "이 단계에서 이탈한 trace", en: "Traces that dropped here" },
  fingerprintBad: { ko: "지문은 소문자 16진수 64자여야 합니다.", en: "A fingerprint is 64 lowercase hex characters." },
  traceBad: { ko: "trace_id는 trace_로 시작하고 공백 없이 128자 이하여야 합니다.", en: "A trace_id starts with trace_, has no spaces, and is at most 128 characters." },
  emailBad: { ko: "이메일 주소나 @도메인을 입력하세요.", en: "Enter an email address or an @domain." },
  monthBad: { ko: "월은 YYYY-MM 형식으로 입력하세요.", en: "Enter the month as YYYY-MM." },
  loadFailed: { ko: "더 불러오지 못했습니다.", en: "Could not load more." },
} satisfies Record<string, Text>;

export type Key = keyof typeof dict;

let lang: Lang = pickLanguage();

function pickLanguage(): Lang {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved === "ko" || saved === "en") return saved;
  return (navigator.language || "ko").toLowerCase().startsWith("ko") ? "ko" : "en";
}

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

export function t(key: Key): string {
  return dict[key][lang];
}

/** A text from the API ({ko, en}). */
export function tx(text: Text | undefined | null): string {
  return text ? text[lang] : "";
}
