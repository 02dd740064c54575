// Console texts in Chinese (default) and English. Pure: no DOM, unit-tested in console/test.
export const LANGS = ["zh-CN", "en"];

const MESSAGES = {
  "zh-CN": {
    title: "调度台", signIn: "登录", signOut: "退出", token: "设备令牌", user: "用户名",
    password: "密码", orTokens: "或使用用户名和密码", signInFailed: "登录失败",
    orders: "工单", outages: "停水", crews: "班组", stats: "统计", map: "地图",
    noOrders: "没有工单", type: "类型", status: "状态", deadline: "时限", crew: "班组",
    on_time: "按时", at_risk: "将超时", overdue: "已超时", met: "已完成",
    burst_repair: "爆管抢修", meter_replacement: "换表", meter_removal: "撤表",
    line_marking: "管线指认", meter_reading_route: "抄表路线", complaint: "投诉",
    computeIsolation: "计算关阀方案", isolationPlan: "关阀方案", valvesToClose: "需关闭阀门",
    valvesNotNeeded: "无需关闭", markInoperable: "标记失效", inoperable: "失效",
    planB: "备选方案（B 方案）", extraValves: "追加关闭", affected: "受影响用户",
    compound: "小区", category: "类别", customers: "户数", bounds: "四至",
    east: "东至", west: "西至", south: "南至", north: "北至", streets: "道路",
    createOutage: "创建停水", kind: "类型", emergency: "紧急停水", planned: "计划停水",
    customer_caused: "用户原因", cause: "原因", startAt: "开始时间", restoreAt: "预计恢复",
    leadTime: "提前通知", leadOk: "满足提前通知要求", leadShort: "提前时间不足",
    announce: "发布通知", overrideReason: "主管越权理由", overrideNeeded: "需主管填写理由后发布",
    delivery: "送达情况", queued: "排队", sent: "已发送", reached: "已送达", receipted: "回执",
    failed: "失败", fallback: "转其他渠道", door_tasks: "上门张贴", recipients: "通知对象",
    postingPdf: "打印张贴通知 (A4)", createOrder: "在此新建爆管工单", diameter: "管径",
    assign: "派工", reassign: "改派", load: "在办", lastSeen: "最后位置",
    live: "在线", steps: "步骤", evidence: "照片", notices: "签章单", verify: "验签",
    timeliness: "及时率", byRule: "按时限", byCrew: "按班组", byUnit: "按单位",
    byMonth: "按月", overdueList: "超时清单", exportCsv: "导出 CSV", rate: "及时率",
    connections: "用水报装", connByStage: "各环节及时率", connByType: "按工程类型（受理到通水）",
    connByUnit: "按承办单位（受理到通水）", connTotal: "受理到通水（KF）", connCount: "已通水",
    meanDays: "平均工作日", maxDays: "最长工作日", withinLimit: "时限内", projectType: "工程类型",
    decided: "已结", openOverdue: "在办超时", minutes: "分钟", supervisor: "主管",
    number: "工单号", due: "截止", pipe: "管段", valve: "阀门", hydrant: "消火栓",
    source: "水源", state: "状态", area: "停水区域", loading: "加载中…", serverTime: "服务器时间",
    scopeCrew: "仅显示本班组", noRights: "无权查看",
  },
  en: {
    title: "Dispatch console", signIn: "Sign in", signOut: "Sign out", token: "Device token",
    user: "User", password: "Password", orTokens: "or user and password",
    signInFailed: "Sign-in failed", orders: "Work orders", outages: "Outages", crews: "Crews",
    stats: "Statistics", map: "Map", noOrders: "No work orders", type: "Type", status: "Status",
    deadline: "Deadline", crew: "Crew", on_time: "on time", at_risk: "at risk",
    overdue: "overdue", met: "met", burst_repair: "Burst repair",
    meter_replacement: "Meter replacement", meter_removal: "Meter removal",
    line_marking: "Line marking", meter_reading_route: "Reading route", complaint: "Complaint",
    computeIsolation: "Compute isolation", isolationPlan: "Isolation plan",
    valvesToClose: "Valves to close", valvesNotNeeded: "Not needed",
    markInoperable: "Mark inoperable", inoperable: "inoperable", planB: "Plan B",
    extraValves: "Extra valves", affected: "Affected customers", compound: "Compound",
    category: "Category", customers: "Customers", bounds: "Four bounds", east: "East",
    west: "West", south: "South", north: "North", streets: "Streets",
    createOutage: "Create outage", kind: "Kind", emergency: "Emergency", planned: "Planned",
    customer_caused: "Customer-caused", cause: "Cause", startAt: "Starts",
    restoreAt: "Expected restoration", leadTime: "Lead time", leadOk: "Lead time met",
    leadShort: "Lead time too short", announce: "Announce",
    overrideReason: "Supervisor override reason",
    overrideNeeded: "A supervisor must give a reason to announce", delivery: "Delivery",
    queued: "Queued", sent: "Sent", reached: "Delivered", receipted: "Receipts",
    failed: "Failed", fallback: "Fell back", door_tasks: "Door notices",
    recipients: "Recipients", postingPdf: "Print posting notice (A4)",
    createOrder: "New burst order here", diameter: "Diameter", assign: "Assign",
    reassign: "Reassign", load: "Open", lastSeen: "Last seen", live: "live", steps: "Steps",
    evidence: "Photos", notices: "Sealed notices", verify: "Verify", timeliness: "Timeliness",
    byRule: "By rule", byCrew: "By crew", byUnit: "By unit", byMonth: "By month",
    overdueList: "Overdue", exportCsv: "Export CSV", rate: "Rate", decided: "Decided",
    connections: "New connections", connByStage: "By stage", connByType: "By project type (acceptance to water on)",
    connByUnit: "By unit (acceptance to water on)", connTotal: "Acceptance to water on (KF)", connCount: "Water on",
    meanDays: "Mean working days", maxDays: "Max working days", withinLimit: "Within limit", projectType: "Project type",
    openOverdue: "Open overdue", minutes: "min", supervisor: "Supervisor", number: "Number",
    due: "Due", pipe: "Pipe", valve: "Valve", hydrant: "Hydrant", source: "Source",
    state: "State", area: "Outage area", loading: "Loading…", serverTime: "Server time",
    scopeCrew: "Your crew only", noRights: "Not permitted",
  },
};

/** The text for ``key`` in ``lang`` (falls back to Chinese, then to the key itself). */
export function t(key, lang = "zh-CN") {
  const table = MESSAGES[lang] ?? MESSAGES["zh-CN"];
  return table[key] ?? MESSAGES["zh-CN"][key] ?? key;
}

/** Every key exists in every language: checked by the unit tests. */
export function missingKeys() {
  const zh = Object.keys(MESSAGES["zh-CN"]);
  const en = Object.keys(MESSAGES.en);
  return {
    en: zh.filter((k) => !en.includes(k)),
    "zh-CN": en.filter((k) => !zh.includes(k)),
  };
}
