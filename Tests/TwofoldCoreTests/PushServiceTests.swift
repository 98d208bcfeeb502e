import Crypto
import Foundation
import Testing
import TwofoldCore
import TwofoldTesting

/// The services with a recording Web Push transport, and devices with real P-256 keys.
struct PushHarness {
    let services: TwofoldServices
    let store: InMemoryStore
    let clock: FixedClock
    let app: ApplicationID
    let transport: RecordingPushProvider
    let observer: RecordingChallengeObserver
    let user = try! UserID("alice")

    static func make(configure: (inout PushPolicy) -> Void = { _ in }) async throws -> PushHarness {
        let store = InMemoryStore()
        let clock = FixedClock()
        let transport = RecordingPushProvider()
        let observer = RecordingChallengeObserver()
        var policy = PushPolicy()
        policy.providers = [transport]
        configure(&policy)
        let services = try await TwofoldServices.start(
            store: store, keyring: try Keyring([MasterKey.generate()]),
            challengePolicy: ChallengePolicy(publicURL: URL(string: "https://twofold.example.com")!),
            pushPolicy: policy, observer: observer, clock: clock)
        let app = try await services.applications.ensureApplication(named: "shop", actor: "test").id
        return PushHarness(services: services, store: store, clock: clock, app: app, transport: transport, observer: observer)
    }

    /// Enrolls a push factor and activates a device with a fresh key.
    func enrollDevice(transport: PushTransport = .polling, user: UserID? = nil) async throws -> TestDevice {
        let enrollment = try await services.push.enroll(app, user ?? self.user, label: "phone", actor: "test")
        let key = P256.Signing.PrivateKey()
        let id = try await services.push.activate(token: enrollment.token, publicKey: Array(key.publicKey.derRepresentation),
                                                  transport: transport)
        return TestDevice(id: id, factorID: enrollment.factor.id, key: key, harness: self)
    }

    func push(number: Bool = true, factor: FactorID? = nil) async throws -> PushChallenge {
        let challenge = try await services.push.challenge(app, user, factorID: factor, context: ChallengeContext(ip: "203.0.113.9"),
                                                          actor: "test")
        await services.push.drain()
        return challenge
    }
}

/// A device as the reference device is: a key, and signed requests.
struct TestDevice {
    let id: DeviceID
    let factorID: FactorID
    let key: P256.Signing.PrivateKey
    let harness: PushHarness

    func request(_ method: String, _ path: String, body: [UInt8] = [], at date: Date? = nil,
                 signer: P256.Signing.PrivateKey? = nil) throws -> DeviceRequest {
        let signed = try DeviceRequestSignature.sign(method: method, path: path, body: body, at: date ?? harness.clock.now(),
                                                     with: signer ?? key)
        return DeviceRequest(deviceID: id, method: method, path: path, body: body, timestamp: signed.timestamp, signature: signed.signature)
    }

    func authenticated() async throws -> PushDeviceRecord {
        try await harness.services.push.authenticate(try request("GET", "/v1/devices/\(id)/challenges"))
    }

    func pending() async throws -> [DeviceChallenge] {
        try await harness.services.push.openChallenges(for: try await authenticated())
    }

    func answer(_ challenge: ChallengeID, _ decision: PushDecision, number: Int? = nil, fraud: Bool = false) async throws -> DeviceChallenge {
        try await harness.services.push.answer(challenge, for: try await authenticated(), decision: decision, number: number, fraud: fraud)
    }
}

@Suite("Push approval", .timeLimit(.minutes(2)))
struct PushServiceTests {
    @Test("a push factor is pending until its device activates with the token, which then works no more")
    func activation() async throws {
        let harness = try await PushHarness.make()
        let enrollment = try await harness.services.push.enroll(harness.app, harness.user, label: "phone", actor: "test")
        #expect(enrollment.factor.status == .pending)
        #expect(enrollment.factor.type == .push)
        #expect(enrollment.token.utf8.count >= 43, "at least 256 bits in base64url")
        let components = try #require(URLComponents(string: enrollment.uri))
        #expect(components.scheme == "twofold" && components.host == "activate")
        #expect(components.queryItems?.first { $0.name == "token" }?.value == enrollment.token)
        #expect(components.queryItems?.first { $0.name == "url" }?.value == "https://twofold.example.com")

        let key = P256.Signing.PrivateKey()
        let deviceID = try await harness.services.push.activate(token: enrollment.token, publicKey: Array(key.publicKey.derRepresentation),
                                                                transport: .polling)
        #expect(deviceID == enrollment.deviceID)
        let factors = try await harness.services.enrollment.factors(harness.app, harness.user)
        #expect(factors.map(\.status) == [.active])
        #expect(factors.first?.deviceID == deviceID)

        let again = await #expect(throws: TwofoldError.self) {
            try await harness.services.push.activate(token: enrollment.token, publicKey: Array(P256.Signing.PrivateKey().publicKey.derRepresentation),
                                                     transport: .polling)
        }
        #expect(again?.code == .unauthorized)
    }

    @Test("a key that is not P-256 in SPKI DER is refused and leaves the factor pending")
    func badKeys() async throws {
        let harness = try await PushHarness.make()
        let enrollment = try await harness.services.push.enroll(harness.app, harness.user, label: nil, actor: "test")
        let p256 = Array(P256.Signing.PrivateKey().publicKey.derRepresentation)
        for bad in [Array("not a key".utf8), Array(P384.Signing.PrivateKey().publicKey.derRepresentation), Array(p256.dropLast(5)),
                    Array(P256.Signing.PrivateKey().publicKey.x963Representation), []] {
            let error = await #expect(throws: TwofoldError.self) {
                try await harness.services.push.activate(token: enrollment.token, publicKey: bad, transport: .polling)
            }
            #expect(error?.code == .invalidRequest)
            #expect(error?.message.contains("public_key") == true)
        }
        #expect(try await harness.services.enrollment.factors(harness.app, harness.user).map(\.status) == [.pending])
        // The token still works after the refusals.
        _ = try await harness.services.push.activate(token: enrollment.token, publicKey: p256, transport: .polling)
    }

    @Test("an activation token past its lifetime is refused")
    func lapsedToken() async throws {
        let harness = try await PushHarness.make()
        let enrollment = try await harness.services.push.enroll(harness.app, harness.user, label: nil, actor: "test")
        harness.clock.advance(by: 601)
        let error = await #expect(throws: TwofoldError.self) {
            try await harness.services.push.activate(token: enrollment.token, publicKey: Array(P256.Signing.PrivateKey().publicKey.derRepresentation),
                                                     transport: .polling)
        }
        #expect(error?.code == .unauthorized)
    }

    @Test("the device approves with the number the sign-in page shows; the long poll sees it")
    func approveWithNumber() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let push = try await harness.push()
        let number = try #require(push.number)
        #expect((10...99).contains(number))
        let open = try await device.pending()
        #expect(open.map(\.id) == [push.challenge.id])
        #expect(open.first?.numberRequired == true)
        #expect(open.first?.applicationName == "shop")
        #expect(open.first?.context.ip == "203.0.113.9")

        let poll = Task { try await harness.services.challenges.status(harness.app, push.challenge.id, wait: 30) }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        let answered = try await device.answer(push.challenge.id, .approve, number: number)
        #expect(answered.status == .approved)
        #expect(try await poll.value.status == .approved)
        #expect(ContinuousClock.now - started < .seconds(20), "the poll answered well before its 30 s wait ended")
        #expect(try await device.pending().isEmpty)
        #expect(try await harness.services.enrollment.factors(harness.app, harness.user).first?.lastUsedAt == harness.clock.now())
    }

    @Test("an approval with the wrong number is a denial; one without it is refused and changes nothing")
    func wrongNumber() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let push = try await harness.push()
        let number = try #require(push.number)
        let missing = await #expect(throws: TwofoldError.self) { try await device.answer(push.challenge.id, .approve) }
        #expect(missing?.code == .invalidRequest)
        #expect(try await harness.services.challenges.show(push.challenge.id).status == .pending)
        let answered = try await device.answer(push.challenge.id, .approve, number: number == 99 ? 10 : number + 1)
        #expect(answered.status == .denied)
        #expect(answered.reason == .wrongNumber)
        let late = await #expect(throws: TwofoldError.self) { try await device.answer(push.challenge.id, .approve, number: number) }
        #expect(late?.code == .invalidState)
    }

    @Test("a fraud report denies, is audited and counted, and suspends pushes to the device for a while")
    func fraudSuspends() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let push = try await harness.push()
        let answered = try await device.answer(push.challenge.id, .deny, fraud: true)
        #expect(answered.status == .denied && answered.reason == .fraud)
        #expect(harness.observer.recorded.filter { $0 == "fraud push" }.count == 1)
        let events = try await harness.store.auditEvents(AuditQuery(applicationID: harness.app, userID: harness.user, limit: 50))
        let report = events.first { $0.action == AuditAction.challengeFinished.rawValue && $0.reason == "fraud" }
        #expect(report?.details.contains("\"suspended_until\"") == true)

        harness.clock.advance(by: 60)
        let refused = await #expect(throws: TwofoldError.self) { try await harness.push() }
        #expect(refused?.code == .rateLimited)
        #expect(refused?.lockedUntil == harness.clock.now().addingTimeInterval(1_200 - 60))
        harness.clock.advance(by: 1_200)
        _ = try await harness.push()
    }

    @Test("a plain denial is declined and suspends nothing")
    func declined() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let push = try await harness.push()
        #expect(try await device.answer(push.challenge.id, .deny).reason == .declined)
        harness.clock.advance(by: 31)
        _ = try await harness.push()
    }

    @Test("a newer push cancels the open one: an old prompt cannot approve a newer sign-in")
    func newerPushSupersedes() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let first = try await harness.push()
        harness.clock.advance(by: 31)
        let second = try await harness.push()
        let old = try await harness.services.challenges.show(first.challenge.id)
        #expect(old.status == .canceled && old.reason == .superseded)
        #expect(try await device.pending().map(\.id) == [second.challenge.id])
        let error = await #expect(throws: TwofoldError.self) { try await device.answer(first.challenge.id, .approve, number: first.number) }
        #expect(error?.code == .invalidState)
    }

    @Test("a push refused by the send budget leaves the open one open")
    func refusedPushKeepsOpenOne() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let first = try await harness.push()
        let refused = await #expect(throws: TwofoldError.self) { try await harness.push() }
        #expect(refused?.code == .rateLimited)
        #expect(try await device.pending().map(\.id) == [first.challenge.id])
        #expect(try await device.answer(first.challenge.id, .approve, number: first.number).status == .approved)
    }

    @Test("a push not answered within two minutes expires")
    func expiry() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let push = try await harness.push()
        harness.clock.advance(by: 121)
        let error = await #expect(throws: TwofoldError.self) { try await device.answer(push.challenge.id, .approve, number: push.number) }
        #expect(error?.code == .invalidState)
        #expect(try await harness.services.challenges.show(push.challenge.id).status == .expired)
        #expect(try await device.pending().isEmpty)
    }

    @Test("an application that turns number matching off gets no number, and an approval needs none")
    func numberMatchingOff() async throws {
        let harness = try await PushHarness.make()
        try await harness.services.applications.updateSettings(id: harness.app, smsTemplate: .keep, domain: .keep, pushNumberMatching: false,
                                                               actor: "test")
        let device = try await harness.enrollDevice()
        let push = try await harness.push()
        #expect(push.number == nil)
        #expect(try await device.pending().first?.numberRequired == false)
        #expect(try await device.answer(push.challenge.id, .approve).status == .approved)
    }

    @Test("signatures: replayed, re-encoded (s or n − s), stale, future, another key, another path are refused")
    func signatureChecks() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let path = "/v1/devices/\(device.id)/challenges"
        let good = try device.request("GET", path)
        _ = try await harness.services.push.authenticate(good)
        await expectUnauthorized(harness, good, "the same request again")

        // The same signature with s replaced by n − s verifies too: it must count as a replay.
        let fresh = try device.request("GET", path)
        _ = try await harness.services.push.authenticate(fresh)
        var malleated = fresh
        malleated.signature = try Self.negatedS(fresh.signature!)
        #expect(malleated.signature != fresh.signature)
        await expectUnauthorized(harness, malleated, "the signature with n − s")

        await expectUnauthorized(harness, try device.request("GET", path, at: harness.clock.now().addingTimeInterval(-301)), "stale")
        await expectUnauthorized(harness, try device.request("GET", path, at: harness.clock.now().addingTimeInterval(301)), "future")
        await expectUnauthorized(harness, try device.request("GET", path, signer: P256.Signing.PrivateKey()), "another key")
        var moved = try device.request("GET", path)
        moved.path = path + "/chl_aaaaaaaaaaaaaaaaaaaaaaaaaa"
        await expectUnauthorized(harness, moved, "another path")
        var rebodied = try device.request("POST", path, body: Array(#"{"decision":"deny"}"#.utf8))
        rebodied.body = Array(#"{"decision":"approve"}"#.utf8)
        await expectUnauthorized(harness, rebodied, "another body")
        var unsigned = try device.request("GET", path)
        unsigned.signature = nil
        await expectUnauthorized(harness, unsigned, "no signature")
        var garbage = try device.request("GET", path)
        garbage.signature = "AAAA"
        await expectUnauthorized(harness, garbage, "garbage")
        var unknown = try device.request("GET", path)
        unknown.deviceID = DeviceID.random()
        await expectUnauthorized(harness, unknown, "an unknown device")
    }

    @Test("a device cannot see or answer another device's challenge")
    func otherDevicesChallenge() async throws {
        let harness = try await PushHarness.make()
        let mine = try await harness.enrollDevice()
        let theirs = try await harness.enrollDevice(user: try UserID("bob"))
        let push = try await harness.push(factor: mine.factorID)
        #expect(try await theirs.pending().isEmpty)
        let error = await #expect(throws: TwofoldError.self) { try await theirs.answer(push.challenge.id, .approve, number: push.number) }
        #expect(error == TwofoldError.challengeNotFound, "exactly as a challenge that does not exist")
        let shown = await #expect(throws: TwofoldError.self) {
            try await harness.services.push.challenge(push.challenge.id, for: try await theirs.authenticated())
        }
        #expect(shown == TwofoldError.challengeNotFound)
        #expect(try await harness.services.challenges.show(push.challenge.id).status == .pending)
    }

    @Test("of concurrent answers exactly one is applied")
    func concurrentAnswers() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        let push = try await harness.push()
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let decision: PushDecision = index.isMultiple(of: 2) ? .approve : .deny
                    return (try? await device.answer(push.challenge.id, decision, number: push.number)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        let events = try await harness.store.auditEvents(AuditQuery(applicationID: harness.app, userID: harness.user, limit: 100))
        #expect(events.filter { $0.action == AuditAction.challengeFinished.rawValue }.count == 1)
    }

    @Test("a device with a transport is woken with the challenge id; a transport that fails ends the push failed")
    func transportWakes() async throws {
        let harness = try await PushHarness.make()
        let subscription = WebPushSubscription(endpoint: "https://push.example.net/abc", p256dh: Array(repeating: 4, count: 65),
                                               auth: Array(repeating: 1, count: 16))
        _ = try await harness.enrollDevice(transport: .webPush(subscription))
        let push = try await harness.push()
        #expect(harness.transport.delivered.map(\.challengeID) == [push.challenge.id])
        #expect(harness.transport.delivered.first?.transport == .webPush(subscription))
        #expect(try await harness.services.challenges.show(push.challenge.id).delivery?.status == "sent")

        harness.transport.failNext(DeliveryFailure(.unreachable, "the push subscription is gone"))
        harness.clock.advance(by: 31)
        let failed = try await harness.push()
        let shown = try await harness.services.challenges.show(failed.challenge.id)
        #expect(shown.status == .failed && shown.reason == .unreachable)
    }

    @Test("a transport this deployment does not enable, or an endpoint it refuses, is refused at activation")
    func transportRefused() async throws {
        let harness = try await PushHarness.make { $0.providers = [] }
        let enrollment = try await harness.services.push.enroll(harness.app, harness.user, label: nil, actor: "test")
        let key = Array(P256.Signing.PrivateKey().publicKey.derRepresentation)
        let subscription = WebPushSubscription(endpoint: "https://push.example.net/abc", p256dh: Array(repeating: 4, count: 65),
                                               auth: Array(repeating: 1, count: 16))
        let disabled = await #expect(throws: TwofoldError.self) {
            try await harness.services.push.activate(token: enrollment.token, publicKey: key, transport: .webPush(subscription))
        }
        #expect(disabled?.message.contains("TWOFOLD_PUSH_PROVIDERS") == true)

        let enabled = try await PushHarness.make()
        let other = try await enabled.services.push.enroll(enabled.app, enabled.user, label: nil, actor: "test")
        let http = WebPushSubscription(endpoint: "http://push.example.net/abc", p256dh: subscription.p256dh, auth: subscription.auth)
        let refused = await #expect(throws: TwofoldError.self) {
            try await enabled.services.push.activate(token: other.token, publicKey: key, transport: .webPush(http))
        }
        #expect(refused?.code == .invalidRequest)
        #expect(try await enabled.services.enrollment.factors(enabled.app, enabled.user).map(\.status) == [.pending])
    }

    @Test("deleting the push factor forgets the device: its signed requests are refused")
    func deletionForgetsDevice() async throws {
        let harness = try await PushHarness.make()
        let device = try await harness.enrollDevice()
        _ = try await device.authenticated()
        try await harness.services.enrollment.deleteFactor(harness.app, harness.user, device.factorID, actor: "test")
        let error = await #expect(throws: TwofoldError.self) { try await device.authenticated() }
        #expect(error?.code == .unauthorized)
        let missing = await #expect(throws: TwofoldError.self) { try await harness.push() }
        #expect(missing?.code == .notFound)
    }

    @Test("a code never verifies a push factor")
    func codesDoNotVerifyPush() async throws {
        let harness = try await PushHarness.make()
        _ = try await harness.enrollDevice()
        let push = try await harness.push()
        let result = try await harness.services.verification.verify(harness.app, harness.user, code: String(push.number!), actor: "test")
        #expect(result.isAllowed == false)
    }

    // MARK: - Helpers

    private func expectUnauthorized(_ harness: PushHarness, _ request: DeviceRequest, _ what: Comment,
                                    sourceLocation: SourceLocation = #_sourceLocation) async {
        let error = await #expect(throws: TwofoldError.self, what, sourceLocation: sourceLocation) {
            try await harness.services.push.authenticate(request)
        }
        #expect(error?.code == .unauthorized, what, sourceLocation: sourceLocation)
    }

    /// The same signature with s replaced by n − s, DER-encoded.
    static func negatedS(_ base64: String) throws -> String {
        let signature = try P256.Signing.ECDSASignature(derRepresentation: try #require(Data(base64Encoded: base64)))
        let raw = Array(signature.rawRepresentation)
        let n: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                          0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51]
        var negated = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in stride(from: 31, through: 0, by: -1) {
            var value = Int(n[index]) - Int(raw[32 + index]) - borrow
            borrow = value < 0 ? 1 : 0
            if value < 0 { value += 256 }
            negated[index] = UInt8(value)
        }
        let other = try P256.Signing.ECDSASignature(rawRepresentation: raw[0..<32] + negated)
        return other.derRepresentation.base64EncodedString()
    }
}
