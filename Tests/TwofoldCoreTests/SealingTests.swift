import Foundation
import Testing
import TwofoldCore
import TwofoldOTP
import TwofoldTesting

@Suite("Sealing, rotation and what the database holds")
struct SealingTests {
    let alice = try! UserID("alice")

    @Test("a sealed secret copied into another factor's row does not open")
    func associatedData() async throws {
        let h = try await ServicesHarness.make()
        let (totp, _) = try await h.enrollTOTP(alice)
        let bob = try UserID("bob")
        _ = try await h.enrollTOTP(bob)
        // An attacker with write access to the database (and nothing else) copies alice's
        // sealed secret into bob's factor row.
        let alicesSecret = try #require(try await h.store.factors(applicationID: h.app, userID: alice).first?.sealedSecret)
        let bobsFactor = try #require(try await h.store.factors(applicationID: h.app, userID: bob).first)
        try h.store.tamperWithSealedSecret(of: bobsFactor.id, alicesSecret)
        await #expect {
            try await h.services.verification.verify(h.app, bob, code: try totp.code(at: h.now), actor: "test")
        } throws: { isCode($0, .sealing) }
    }

    @Test("a factor whose secret does not open stops the attempt before any code is compared, counting nothing")
    func unopenableFactorGivesNoFreeGuesses() async throws {
        let h = try await ServicesHarness.make()
        let (totp, _) = try await h.enrollTOTP(alice)
        let (_, broken) = try await h.enrollTOTP(alice)
        try h.store.tamperWithSealedSecret(of: broken, Array(repeating: 7, count: 60))
        // Before the fix, alice's first factor was compared (and this code accepted) before the
        // broken one threw: wrong guesses against it were then free.
        for code in [try totp.code(at: h.now), "000000"] {
            await #expect {
                try await h.services.verification.verify(h.app, alice, code: code, actor: "test")
            } throws: { isCode($0, .sealing) }
        }
        #expect(try await h.services.administration.throttleState(h.app, alice) == nil)
    }

    @Test("rotation re-wraps data keys, not secrets; every factor still verifies; old-key-only nodes cannot open")
    func rotation() async throws {
        let oldKey = MasterKey.generate()
        let h = try await ServicesHarness.make(keys: [oldKey])
        var devices: [(UserID, TOTP)] = []
        for index in 0..<5 {
            let user = try UserID("user\(index)")
            devices.append((user, try await h.enrollTOTP(user).0))
        }
        let sealedBefore = try await h.store.factors(applicationID: h.app, userID: devices[0].0).first?.sealedSecret
        let newKey = MasterKey.generate()
        let rotated = try await h.reopened(keys: [newKey, oldKey])
        let report = try await rotated.keyRotation.rotateKeys(actor: "cli:root")
        #expect(report.rewrapped == 5 + 5)  // five users' data keys, two audit keys, the send-budget, API key MAC and audit id keys
        #expect(try await rotated.keyRotation.keyUsage() == [newKey.id: 10])
        #expect(try await rotated.keyRotation.rotateKeys(actor: "cli:root").rewrapped == 0)
        // Secrets themselves were not re-encrypted.
        #expect(try await h.store.factors(applicationID: h.app, userID: devices[0].0).first?.sealedSecret == sealedBefore)
        h.clock.advance(by: 30)
        for (user, totp) in devices {
            #expect(try await rotated.verification.verify(h.app, user, code: totp.code(at: h.now), actor: "test").isAllowed)
        }
        // Without the old key the new one alone opens everything.
        let newOnly = try await h.reopened(keys: [newKey])
        h.clock.advance(by: 30)
        #expect(try await newOnly.verification.verify(h.app, devices[0].0, code: devices[0].1.code(at: h.now), actor: "test").isAllowed)
        #expect(try await newOnly.audit.verifyAudit().isIntact)
        // A node holding only the retired key opens nothing.
        await #expect(throws: TwofoldError.self) { try await h.reopened(keys: [oldKey]) }
    }

    @Test("master key files round-trip and refuse anything else")
    func keyFiles() throws {
        let key = MasterKey.generate()
        let parsed = try MasterKey(fileContents: key.fileContents)
        #expect(parsed.id == key.id)
        #expect(key.id.hasPrefix("mk_") && key.id.count == 19)
        #expect(MasterKey.generate().id != key.id)
        for bad in ["", "twofold-master-key-v1", "twofold-master-key-v1 not-base64!", "twofold-master-key-v1 AAAA", "other " + key.fileContents] {
            #expect(throws: TwofoldError.self) { try MasterKey(fileContents: bad) }
        }
        #expect(throws: TwofoldError.self) { try Keyring([]) }
    }
}
