//! Live tests of dialplan/callcenter_amd.xml, a mod_callcenter queue that rings agents' own
//! phones and skips their voicemail, in a real FreeSWITCH (the live harness plus mod_sofia and
//! mod_callcenter). The agents' phones are SIP: two sofia profiles of the one FreeSWITCH on
//! 127.0.0.1, the queue calling out on `cc_agents` to far ends answering on `cc_phones`, which
//! play a fixture from tests/data (a person, a voicemail, a fax) or ring and never answer.
//! (mod_callcenter hangs up a loopback agent that is not bridged within 5 s, so the agents
//! cannot be loopback channels; the callers are.) The queue is the shipped
//! conf/autoload_configs/callcenter.conf.xml with its contacts, ring and delay times rewritten
//! for the test; the flow is the shipped dialplan included as it is.
//!
//! Where no FreeSWITCH (or no mod_sofia / mod_callcenter) is installed, every test prints why
//! and passes.

#[path = "shared/built_module.rs"]
mod built_module;
#[macro_use]
#[path = "live/harness.rs"]
mod harness;

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use harness::{cause, crate_dir, free_port, micros, sdk, sip_profiles, var, wait_sip_profiles, write_tone_wav, Fs, Headers, Options, Sdk};

const MODULES: &[&str] = &["mod_sofia", "mod_callcenter"];
const AGENTS: [&str; 3] = ["agent1", "agent2", "agent3"];
const QUEUE: &str = "amd_support";
/// The message the flow plays when no agent was reached (a short tone here).
const MESSAGE: &str = "ivr/ivr-call_cannot_be_completed_as_dialed.wav";

/// The agents' phones, on the `cc_phones` profile: `<fixture>-<agent>` answers, logs
/// `AMDCC far=<fixture> agent=<agent>`, plays tests/data/<fixture>.wav and stays on the line a
/// little; `noanswer-<agent>` rings (180) for a minute. And `cc_routes`, an operator's route
/// into the flow; `cc_none`, where nothing enters.
fn test_contexts() -> String {
    let data = crate_dir().join("tests/data");
    format!(
        r#"    <context name="cc_far">
      <extension name="cc_far_answering">
        <condition field="destination_number" expression="^(human_hello|machine_beep|fax_ced)-(\w+)$">
          <action application="answer"/>
          <action application="log" data="CRIT AMDCC far=$1 agent=$2 uuid=${{uuid}} cid=${{caller_id_number}}"/>
          <action application="playback" data="{data}/$1.wav"/>
          <action application="sleep" data="4000"/>
          <action application="hangup"/>
        </condition>
      </extension>
      <extension name="cc_far_noanswer">
        <condition field="destination_number" expression="^noanswer-(\w+)$">
          <action application="log" data="CRIT AMDCC far=noanswer agent=$1 uuid=${{uuid}} cid=${{caller_id_number}}"/>
          <action application="ring_ready"/>
          <action application="sleep" data="60000"/>
          <action application="hangup"/>
        </condition>
      </extension>
    </context>
    <context name="cc_routes">
      <extension name="cc_typo">
        <condition field="destination_number" expression="^cc_typo$">
          <action application="set" data="amd_cc_queue={QUEUE}"/>
          <action application="set" data="amd_cc_settings=total_analysis_time=5000,silent_treshold=64"/>
          <action application="transfer" data="amd_cc XML amd_callcenter"/>
        </condition>
      </extension>
    </context>
    <context name="cc_none">
      <extension name="cc_none">
        <condition field="destination_number" expression="^.*$">
          <action application="hangup" data="NO_ROUTE_DESTINATION"/>
        </condition>
      </extension>
    </context>"#,
        data = data.display()
    )
}

/// The shipped callcenter.conf.xml with `edits` (each `from` must be there) applied.
fn callcenter_conf(edits: &[(String, String)]) -> String {
    let path = crate_dir().join("conf/autoload_configs/callcenter.conf.xml");
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in edits {
        assert!(text.contains(from.as_str()), "callcenter.conf.xml has no `{from}`");
        text = text.replace(from.as_str(), to);
    }
    text
}

/// The shipped queue param `name`'s value replaced.
fn queue_param(name: &str, shipped: &str, value: &str) -> (String, String) {
    (format!("<param name=\"{name}\" value=\"{shipped}\"/>"), format!("<param name=\"{name}\" value=\"{value}\"/>"))
}

struct Cc {
    fs: Fs,
}

impl std::ops::Deref for Cc {
    type Target = Fs;
    fn deref(&self) -> &Fs {
        &self.fs
    }
}

/// A FreeSWITCH with the two SIP profiles, the shipped queue whose agents 1..3 call the far
/// ends `phones` (a fixture name or "noanswer"), with the test's short times and `edits`.
fn start(sdk: &Sdk, name: &str, phones: [&str; 3], edits: Vec<(String, String)>) -> Cc {
    let (agents_port, phones_port) = (free_port(), free_port());
    let mut all: Vec<(String, String)> = phones
        .iter()
        .enumerate()
        .map(|(i, far)| {
            (format!("sofia/gateway/mygw/1555123000{}", i + 1), format!("sofia/cc_agents/{far}-{}@127.0.0.1:{phones_port}", AGENTS[i]))
        })
        .collect();
    all.extend([
        ("local_stream://moh".to_string(), "tone_stream://%(1000,3000,440);loops=-1".to_string()),
        ("leg_timeout=25".into(), "leg_timeout=10".into()),
        ("reject-delay-time=\"300\"".into(), "reject-delay-time=\"5\"".into()),
        ("wrap-up-time=\"10\"".into(), "wrap-up-time=\"0\"".into()),
        queue_param("max-wait-time", "120", "45"),
    ]);
    all.extend(edits);
    let configuration = format!(
        "{}\n{}",
        sip_profiles(&[("cc_agents", agents_port, "cc_none"), ("cc_phones", phones_port, "cc_far")], "PCMU"),
        callcenter_conf(&all)
    );
    let dialplan = format!(
        "    <X-PRE-PROCESS cmd=\"include\" data=\"{}\"/>\n{}",
        crate_dir().join("dialplan/callcenter_amd.xml").display(),
        test_contexts()
    );
    let fs = Fs::start(
        sdk,
        name,
        Options {
            extra_modules: MODULES.to_vec(),
            extra_configuration: configuration,
            extra_dialplan: dialplan,
            ..Options::default()
        },
    );
    write_tone_wav(&fs.root.join("sounds").join(MESSAGE), 800, 540.0);
    wait_sip_profiles(&fs, &["cc_agents", "cc_phones"], Duration::from_secs(20));
    let cc = Cc { fs };
    for agent in AGENTS {
        assert_eq!(cc.agent(agent)["status"], "Available", "{}", cc.tail(40));
    }
    cc
}

// ---------------------------------------------------------------------------------------------
// Reading the outcome.

/// The far ends reached: (fixture or "noanswer", agent), in order.
fn far_marks(fs: &Fs) -> Vec<(String, String)> {
    fs.logged("CRIT", "AMDCC far=")
        .iter()
        .filter_map(|l| l.split_once("AMDCC ").map(|(_, rest)| rest))
        .map(|rest| {
            let kv: HashMap<&str, &str> = rest.split_whitespace().filter_map(|kv| kv.split_once('=')).collect();
            (kv["far"].to_string(), kv["agent"].to_string())
        })
        .collect()
}

fn wait_far(fs: &Fs, far: &str, agent: &str, nth: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while far_marks(fs).iter().filter(|(f, a)| f == far && a == agent).count() < nth {
        assert!(Instant::now() < deadline, "{agent}'s phone ({far}) not reached {nth} time(s) within {timeout:?}\n{}", fs.tail(80));
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// The ended calls mod_callcenter placed to `agent` (their CHANNEL_HANGUP_COMPLETE), oldest first.
fn agent_legs(fs: &Fs, agent: &str) -> Vec<Headers> {
    let mut legs = fs.events.named("CHANNEL_HANGUP_COMPLETE", |e| var(e, "cc_side") == "agent" && var(e, "cc_agent") == agent);
    legs.sort_by_key(|e| micros(e, "start_uepoch"));
    legs
}

fn wait_agent_legs(fs: &Fs, agent: &str, n: usize, timeout: Duration) -> Vec<Headers> {
    let deadline = Instant::now() + timeout;
    loop {
        let legs = agent_legs(fs, agent);
        if legs.len() >= n {
            return legs;
        }
        assert!(Instant::now() < deadline, "{agent}: {} call(s) ended within {timeout:?}, not {n}\n{}", legs.len(), fs.tail(80));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The caller's leg in the queue (the loopback's -b leg) with caller ID `cid`, once it has ended.
fn wait_caller_end(fs: &Fs, cid: &str, timeout: Duration) -> Headers {
    let deadline = Instant::now() + timeout;
    loop {
        let found = fs.events.named("CHANNEL_HANGUP_COMPLETE", |e| {
            e.get("Channel-Name").is_some_and(|n| n.starts_with("loopback/") && n.ends_with("-b"))
                && e.get("Caller-Caller-ID-Number").map(String::as_str) == Some(cid)
        });
        if let Some(e) = found.into_iter().next() {
            return e;
        }
        assert!(Instant::now() < deadline, "caller {cid} still in the queue after {timeout:?}\n{}", fs.tail(80));
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn bridges_of(fs: &Fs, cid: &str) -> Vec<Headers> {
    fs.events.named("CHANNEL_BRIDGE", |e| e.get("Caller-Caller-ID-Number").map(String::as_str) == Some(cid))
}

fn wait_bridged(fs: &Fs, cid: &str, timeout: Duration) -> Headers {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(e) = bridges_of(fs, cid).into_iter().next() {
            return e;
        }
        assert!(Instant::now() < deadline, "caller {cid} not bridged within {timeout:?}\n{}", fs.tail(80));
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Cc {
    /// A caller `cid` joins the queue through the flow: a loopback leg whose other end
    /// (`uuid`) parks, with `vars` (`k=v,...`) set.
    fn call(&self, cid: &str, uuid: &str, vars: &str) -> String {
        self.api(&format!(
            "originate {{origination_uuid={uuid},origination_caller_id_number={cid},origination_caller_id_name=caller{cid}{vars}}}loopback/amd_cc/amd_callcenter &park"
        ))
    }

    fn queue_call(&self, cid: &str, uuid: &str) {
        let reply = self.call(cid, uuid, &format!(",amd_cc_queue={QUEUE}"));
        assert!(reply.starts_with("+OK"), "caller {cid}: {reply}\n{}", self.tail(40));
    }

    /// One agent's row of `callcenter_config agent list`, by column name.
    fn agent(&self, name: &str) -> HashMap<String, String> {
        let text = self.api(&format!("callcenter_config agent list {name}"));
        let mut lines = text.lines().filter(|l| l.contains('|'));
        let (head, row) = (lines.next(), lines.next());
        let (Some(head), Some(row)) = (head, row) else { panic!("callcenter_config agent list {name}: {text:?}") };
        head.split('|').map(str::to_string).zip(row.split('|').map(str::to_string)).collect()
    }

    fn ready_time(&self, agent: &str) -> u64 {
        self.agent(agent)["ready_time"].parse().unwrap()
    }

    /// Waits until every agent is Waiting (back in the queue, not held by a call).
    fn wait_agents_waiting(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let states: Vec<String> = AGENTS.iter().map(|a| self.agent(a)["state"].clone()).collect();
            if states.iter().all(|s| s == "Waiting") {
                return;
            }
            assert!(Instant::now() < deadline, "agents not all Waiting after {timeout:?}: {states:?}\n{}", self.tail(60));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every call over, no member left in the queue, every agent Waiting, every AMD channel
    /// slot free, nothing panicked.
    fn all_clear(&self) {
        self.wait_no_channels(Duration::from_secs(30));
        self.wait_agents_waiting(Duration::from_secs(10));
        // Callers who left stay listed as Abandoned (for abandoned-resume-allowed) until
        // discard-abandoned-after; none may be left waiting or being served.
        let members = self.api(&format!("callcenter_config queue list members {QUEUE}"));
        let mut rows = members.lines().filter(|l| l.contains('|'));
        if let Some(head) = rows.next() {
            let state = head.split('|').position(|c| c == "state").unwrap_or_else(|| panic!("no state column: {members}"));
            for row in rows {
                assert_eq!(row.split('|').nth(state), Some("Abandoned"), "a member left in the queue:\n{members}");
            }
        }
        assert_eq!(self.amd_info(), (1000, 0), "amd_info after the calls");
        assert!(!self.log_text().contains("panicked"), "a panic in the log\n{}", self.tail(80));
    }
}

// ---------------------------------------------------------------------------------------------
// The tests.

/// The shipped callcenter.conf.xml loads as it is: the queue and its three agents, Available,
/// with their contacts (the confirm variables included) as written.
#[test]
fn shipped_queue_loads() {
    let sdk = sdk_or_skip!("shipped_queue_loads");
    if sdk.lacks("shipped_queue_loads", &["mod_callcenter"]) {
        return;
    }
    let fs = Fs::start(
        &sdk,
        "cc_shipped",
        Options { extra_modules: vec!["mod_callcenter"], extra_configuration: callcenter_conf(&[]), ..Options::default() },
    );
    let queues = fs.api("callcenter_config queue list");
    assert!(queues.contains(QUEUE), "{queues}");
    let agents = fs.api(&format!("callcenter_config queue list agents {QUEUE}"));
    for (i, agent) in AGENTS.iter().enumerate() {
        let row = agents.lines().find(|l| l.starts_with(&format!("{agent}|"))).unwrap_or_else(|| panic!("{agent} not in the queue:\n{agents}"));
        assert!(row.contains("|callback|"), "{row}");
        assert!(row.contains("|Available|Waiting|"), "{row}");
        let contact = format!(
            "{{group_confirm_key=exec,group_confirm_file='execute_extension amd_cc_listen XML amd_callcenter',group_confirm_timeout=20,leg_timeout=25}}sofia/gateway/mygw/1555123000{}",
            i + 1
        );
        assert!(row.contains(&contact), "{row}");
    }
    let tiers = fs.api(&format!("callcenter_config queue list tiers {QUEUE}"));
    assert_eq!(tiers.lines().filter(|l| l.starts_with(&format!("{QUEUE}|"))).count(), 3, "{tiers}");
    assert!(fs.logged("ERR", "").iter().all(|l| !l.to_lowercase().contains("callcenter")), "{}", fs.tail(60));
}

/// Case 1: A person answers the first agent's phone: detection says person, the flow logs it and
/// returns, and mod_callcenter bridges the caller to that agent; nobody else is rung.
#[test]
fn person_answering_is_bridged() {
    let sdk = sdk_or_skip!("person_answering_is_bridged");
    if sdk.lacks("person_answering_is_bridged", MODULES) {
        return;
    }
    let cc = start(&sdk, "cc_person", ["human_hello", "human_hello", "human_hello"], vec![]);
    cc.queue_call("5550001", "cc-person-caller");

    let long = Duration::from_secs(30);
    let line = cc.wait_logged("NOTICE", "amd_callcenter: agent agent1 ", long);
    assert!(line.contains("(sofia/cc_agents/human_hello-agent1@127.0.0.1:"), "{line}");
    assert!(line.contains(") answered by person (silent-after-intro, HUMAN-"), "{line}");
    assert!(line.ends_with(": connecting"), "{line}");
    wait_bridged(&cc, "5550001", long);
    let legs = wait_agent_legs(&cc, "agent1", 1, long);
    assert_eq!(var(&legs[0], "amd_status"), "person");
    assert_eq!(var(&legs[0], "cc_agent_bridged"), "true");
    assert_eq!(cause(&legs[0]), "NORMAL_CLEARING", "the agent's phone hung up after talking");
    let caller = wait_caller_end(&cc, "5550001", long);
    assert_eq!(var(&caller, "cc_cause"), "answered");
    assert_eq!(var(&caller, "cc_agent"), "agent1");
    cc.all_clear();
    assert_eq!(far_marks(&cc), vec![("human_hello".to_string(), "agent1".to_string())], "only agent1 was rung");
    assert!(cc.logged("NOTICE", "no agent reached").is_empty());
    let agent1 = cc.agent("agent1");
    assert_eq!((agent1["calls_answered"].as_str(), agent1["no_answer_count"].as_str(), agent1["ready_time"].as_str()), ("1", "0", "0"));
}

/// Case 2: Voicemail answers agent1: the call to it is dropped (CALL_REJECTED, NOTICE line), the next
/// agent is rung and bridged. agent1 stays Available but asleep for its reject-delay-time (5 s
/// here): a caller who comes in meanwhile, with the other agents busy, waits rather than ringing
/// agent1, and agent1 is rung again once the time has passed.
#[test]
fn voicemail_skips_the_agent_for_its_reject_delay() {
    let sdk = sdk_or_skip!("voicemail_skips_the_agent_for_its_reject_delay");
    if sdk.lacks("voicemail_skips_the_agent_for_its_reject_delay", MODULES) {
        return;
    }
    let cc = start(&sdk, "cc_voicemail", ["machine_beep", "human_hello", "human_hello"], vec![]);
    let long = Duration::from_secs(30);
    // agent2's contact set over the API, as an operator adding agents at run time would: the
    // whole contact in single quotes (the API's own quoting), none inside.
    let dial = cc.agent("agent2")["contact"].split_once('}').unwrap().1.to_string();
    let contact = format!("{{group_confirm_key=exec,group_confirm_file=execute_extension amd_cc_listen XML amd_callcenter,group_confirm_timeout=20}}{dial}");
    let reply = cc.api(&format!("callcenter_config agent set contact agent2 '{contact}'"));
    assert!(reply.starts_with("+OK"), "{reply}");
    assert_eq!(cc.agent("agent2")["contact"], contact);
    cc.queue_call("5550011", "cc-vm-caller-a");

    let skipped = cc.wait_logged("NOTICE", "amd_callcenter: agent agent1 ", long);
    assert!(skipped.contains(") answered by a machine ("), "{skipped}");
    assert!(skipped.ends_with(": skipping the agent for its reject-delay-time"), "{skipped}");
    let first = wait_agent_legs(&cc, "agent1", 1, long).remove(0);
    assert_eq!((cause(&first), var(&first, "amd_status")), ("CALL_REJECTED", "machine"));
    let rejected_s = micros(&first, "end_uepoch") / 1_000_000;
    // mod_callcenter puts agent1 to sleep: ready_time = the rejection + reject-delay-time.
    let deadline = Instant::now() + Duration::from_secs(5);
    while cc.ready_time("agent1") == 0 {
        assert!(Instant::now() < deadline, "agent1 not put to sleep: {:?}", cc.agent("agent1"));
        std::thread::sleep(Duration::from_millis(50));
    }
    let ready = cc.ready_time("agent1");
    assert!((rejected_s + 4..=rejected_s + 6).contains(&ready), "ready_time {ready}, rejected at {rejected_s}");
    let agent1 = cc.agent("agent1");
    assert_eq!((agent1["status"].as_str(), agent1["no_answer_count"].as_str()), ("Available", "0"), "a rejection, not a no-answer: {agent1:?}");

    // A second caller while agent1 sleeps: agent2 or agent3 answers them (a person).
    cc.queue_call("5550012", "cc-vm-caller-b");
    wait_bridged(&cc, "5550011", long);
    wait_bridged(&cc, "5550012", long);
    assert!(now_s() < ready, "both callers bridged before agent1 woke up: the test is too slow to show the delay");
    // A third caller, every awake agent busy: waits; agent1 is not rung until ready_time.
    cc.queue_call("5550013", "cc-vm-caller-c");
    let queued = now_s();
    wait_far(&cc, "machine_beep", "agent1", 2, long);
    let legs = wait_agent_legs(&cc, "agent1", 2, long);
    let second_start_s = micros(&legs[1], "start_uepoch") / 1_000_000;
    assert!(second_start_s >= ready, "agent1 rung again at {second_start_s}, before its ready_time {ready}");
    assert!(second_start_s <= ready.max(queued) + 3, "agent1 rung again at {second_start_s}, long after its ready_time {ready}");
    assert_eq!((cause(&legs[1]), var(&legs[1], "amd_status")), ("CALL_REJECTED", "machine"));
    // ... then connected to the first of agent2 / agent3 to be free again.
    wait_bridged(&cc, "5550013", Duration::from_secs(40));
    for cid in ["5550011", "5550012", "5550013"] {
        let caller = wait_caller_end(&cc, cid, long);
        assert_eq!(var(&caller, "cc_cause"), "answered", "{cid}");
        assert_ne!(var(&caller, "cc_agent"), "agent1", "{cid}");
    }
    cc.all_clear();
    let marks = far_marks(&cc);
    assert_eq!(marks.iter().filter(|(_, a)| a == "agent1").count(), 2, "agent1 rung twice only: {marks:?}");
    assert_eq!(marks.len(), 5, "two voicemails and three people: {marks:?}");
    assert_eq!(cc.logged("NOTICE", "answered by a machine").len(), 2);
    assert_eq!(cc.logged("NOTICE", "answered by person").len(), 3);
    assert!(!cc.logged("NOTICE", "amd_callcenter: agent agent2 (").is_empty(), "agent2 (its contact set over the API) was listened to");
}

/// Case 3: The caller hangs up while an agent's phone rings (agent1, never answering) and while an
/// answered one is being listened to (agent2, a voicemail): both calls to the agents are
/// cancelled, the detection ends and frees its slot, and neither agent is held asleep.
#[test]
fn caller_hanging_up_cancels_the_agent_call() {
    let sdk = sdk_or_skip!("caller_hanging_up_cancels_the_agent_call");
    if sdk.lacks("caller_hanging_up_cancels_the_agent_call", MODULES) {
        return;
    }
    let cc = start(&sdk, "cc_hangup", ["noanswer", "machine_beep", "human_hello"], vec![]);
    let long = Duration::from_secs(20);
    cc.queue_call("5550021", "cc-hangup-caller-a");
    wait_far(&cc, "noanswer", "agent1", 1, long);
    // agent1 is ringing for caller A, so caller B gets agent2.
    cc.queue_call("5550022", "cc-hangup-caller-b");
    wait_far(&cc, "machine_beep", "agent2", 1, long);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(cc.amd_info(), (999, 1), "agent2's call is being listened to");
    assert!(cc.logged("NOTICE", "amd_callcenter: agent agent2").is_empty(), "decided already: the test is too slow");
    let reply = cc.api("uuid_kill cc-hangup-caller-b");
    assert!(reply.starts_with("+OK"), "{reply}");
    let reply = cc.api("uuid_kill cc-hangup-caller-a");
    assert!(reply.starts_with("+OK"), "{reply}");

    let listened = wait_agent_legs(&cc, "agent2", 1, long).remove(0);
    assert_eq!(cause(&listened), "ORIGINATOR_CANCEL");
    assert_eq!(var(&listened, "amd_status"), "", "no result on the cancelled call");
    cc.wait_logged("NOTICE", "AMD detection ended by hangup before a decision", long);
    let ringing = wait_agent_legs(&cc, "agent1", 1, long).remove(0);
    assert_eq!(cause(&ringing), "ORIGINATOR_CANCEL");
    assert_eq!(micros(&ringing, "answer_uepoch"), 0, "agent1 never answered");
    for cid in ["5550021", "5550022"] {
        let caller = wait_caller_end(&cc, cid, long);
        assert_eq!(var(&caller, "cc_cause"), "cancel", "{cid}");
    }
    cc.all_clear();
    for agent in ["agent1", "agent2"] {
        let row = cc.agent(agent);
        assert_eq!((row["ready_time"].as_str(), row["no_answer_count"].as_str(), row["status"].as_str()), ("0", "0", "Available"), "{agent}: {row:?}");
    }
    assert!(far_marks(&cc).iter().all(|(_, a)| a != "agent3"), "agent3 never rung: {:?}", far_marks(&cc));
    assert!(cc.logged("NOTICE", "amd_callcenter: agent").is_empty(), "no decision was logged");
    assert!(cc.logged("NOTICE", "no agent reached").is_empty(), "no message for callers who left");
}

/// Case 4: No agent answers: agent1's phone is a fax (dropped as a machine), agent2 and agent3 never
/// answer. When the queue's max-wait-time (10 s here) is up, the caller hears the message and
/// the call ends with NORMAL_CLEARING; every agent is back to Waiting. Then, with every agent
/// logged out, a caller leaves after max-wait-time-with-no-agent (and its grace period) the same
/// way.
#[test]
fn no_agent_answering_plays_the_message() {
    let sdk = sdk_or_skip!("no_agent_answering_plays_the_message");
    if sdk.lacks("no_agent_answering_plays_the_message", MODULES) {
        return;
    }
    let edits = vec![
        ("leg_timeout=10".to_string(), "leg_timeout=3".to_string()),
        queue_param("max-wait-time", "45", "10"),
        queue_param("max-wait-time-with-no-agent", "30", "2"),
        queue_param("max-wait-time-with-no-agent-time-reached", "5", "2"),
    ];
    let cc = start(&sdk, "cc_noagent", ["fax_ced", "noanswer", "noanswer"], edits);
    let long = Duration::from_secs(30);
    cc.queue_call("5550031", "cc-noagent-caller");
    let fax = cc.wait_logged("NOTICE", "amd_callcenter: agent agent1 ", long);
    assert!(fax.contains(") answered by a machine (fax, "), "{fax}");
    let gave_up = cc.wait_logged("NOTICE", "amd_callcenter: 5550031: no agent reached in queue amd_support", long);
    assert!(gave_up.contains("(TIMEOUT); playing ivr/ivr-call_cannot_be_completed_as_dialed.wav"), "{gave_up}");
    let caller = wait_caller_end(&cc, "5550031", long);
    assert_eq!(cause(&caller), "NORMAL_CLEARING");
    assert_eq!(var(&caller, "cc_cause"), "cancel");
    let waited = (micros(&caller, "end_uepoch") - micros(&caller, "answer_uepoch")) / 1000;
    assert!((9_000..25_000).contains(&waited), "the caller waited {waited} ms");
    assert!(
        cc.log_text().contains(&format!("playback({MESSAGE})")),
        "the caller heard the message\n{}",
        cc.tail(60)
    );
    assert!(bridges_of(&cc, "5550031").is_empty());
    let fax_leg = wait_agent_legs(&cc, "agent1", 1, long).remove(0);
    assert_eq!((cause(&fax_leg), var(&fax_leg, "amd_result")), ("CALL_REJECTED", "fax"));
    for agent in ["agent2", "agent3"] {
        let legs = wait_agent_legs(&cc, agent, 1, long);
        // leg_timeout's end of the ringing: mod_callcenter counts it as a no-answer.
        assert!(legs.iter().all(|l| cause(l) == "ALLOTTED_TIMEOUT"), "{agent}: {:?}", legs.iter().map(cause).collect::<Vec<_>>());
    }
    cc.all_clear();

    // Nobody logged in.
    for agent in AGENTS {
        let reply = cc.api(&format!("callcenter_config agent set status {agent} 'Logged Out'"));
        assert!(reply.starts_with("+OK"), "{reply}");
    }
    let rung = far_marks(&cc).len();
    cc.queue_call("5550032", "cc-noagent-caller-2");
    let gave_up = cc.wait_logged("NOTICE", "amd_callcenter: 5550032: no agent reached in queue amd_support", long);
    assert!(gave_up.contains("(NO_AGENT_TIMEOUT)"), "{gave_up}");
    assert_eq!(cause(&wait_caller_end(&cc, "5550032", long)), "NORMAL_CLEARING");
    cc.all_clear();
    assert_eq!(far_marks(&cc).len(), rung, "nobody rung");
}

/// Case 5: Bad settings, each with a log line and a defined end: no queue named (refused before
/// answer, an ERR line), a queue that does not exist (an ERR line, the message,
/// SERVICE_UNAVAILABLE), and a mistyped detection parameter (voice_start's warning names it;
/// the rest applies and the person is connected).
#[test]
fn bad_settings_end_cleanly() {
    let sdk = sdk_or_skip!("bad_settings_end_cleanly");
    if sdk.lacks("bad_settings_end_cleanly", MODULES) {
        return;
    }
    let cc = start(&sdk, "cc_bad", ["human_hello", "human_hello", "human_hello"], vec![]);
    let long = Duration::from_secs(30);
    let reply = cc.call("5550041", "cc-bad-noqueue", "");
    assert!(reply.contains("SERVICE_UNAVAILABLE"), "no queue named: {reply}");
    assert_eq!(cc.logged("ERR", "amd_callcenter: 5550041 refused: amd_cc_queue is not set").len(), 1, "{}", cc.tail(40));

    let reply = cc.call("5550042", "cc-bad-nosuch", ",amd_cc_queue=no_such_queue");
    assert!(reply.starts_with("+OK"), "{reply}");
    let line = cc.wait_logged("ERR", "amd_callcenter: 5550042: no queue no_such_queue", long);
    assert!(line.contains("playing ivr/ivr-call_cannot_be_completed_as_dialed.wav"), "{line}");
    assert_eq!(cause(&wait_caller_end(&cc, "5550042", long)), "SERVICE_UNAVAILABLE");

    // A route that sets the queue and mistyped settings, then sends the caller to the flow.
    let reply = cc.api("originate {origination_uuid=cc-bad-typo,origination_caller_id_number=5550043}loopback/cc_typo/cc_routes &park");
    assert!(reply.starts_with("+OK"), "{reply}");
    let typo = cc.wait_logged("WARNING", "voice_start: bad AMD parameter silent_treshold=", long);
    assert!(typo.contains("unknown parameter"), "{typo}");
    let line = cc.wait_logged("NOTICE", "amd_callcenter: agent agent1 ", long);
    assert!(line.contains("answered by person (silent-after-intro, HUMAN-"), "the rest applied: {line}");
    wait_bridged(&cc, "5550043", long);
    assert_eq!(var(&wait_caller_end(&cc, "5550043", long), "cc_cause"), "answered");
    cc.all_clear();
    assert!(bridges_of(&cc, "5550042").is_empty());
}
