using System.Text.Json.Nodes;
using AuthServer.Dpop.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace AuthServer.Dpop.Tests;

/// <summary>RFC 7638 JWK thumbprints: what <c>cnf.jkt</c> and <c>dpop_jkt</c> carry.</summary>
public sealed class JwkThumbprintTests
{
    // RFC 7638 §3.1: the example RSA key and its thumbprint.
    private const string RfcModulus =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn6"
        + "4tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9"
        + "1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    private const string RfcThumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

    private static JsonWebKey Jwk(JsonObject members) => new(members.ToJsonString());

    [Fact]
    public void The_RFC_7638_example_key_has_the_RFC_7638_thumbprint()
    {
        var jwk = Jwk(new JsonObject { ["kty"] = "RSA", ["n"] = RfcModulus, ["e"] = "AQAB", ["alg"] = "RS256", ["kid"] = "2011-04-29" });

        JwkThumbprint.TryCompute(jwk, out var thumbprint).ShouldBeTrue();

        thumbprint.ShouldBe(RfcThumbprint);
        thumbprint!.Length.ShouldBe(JwkThumbprint.Length);
    }

    [Theory]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("RS256")]
    public void A_generated_key_has_the_thumbprint_of_its_canonical_members_whatever_else_it_carries(string alg)
    {
        using var key = alg switch { "ES256" => TestKey.Es256(), "ES384" => TestKey.Es384(), _ => TestKey.Rs256() };
        var decorated = key.PublicJwk();
        decorated["kid"] = "key-1";
        decorated["use"] = "sig";
        decorated["alg"] = alg;

        JwkThumbprint.TryCompute(Jwk(decorated), out var thumbprint).ShouldBeTrue();

        thumbprint.ShouldBe(key.Thumbprint());
        // The token library's own computation agrees.
        thumbprint.ShouldBe(Base64UrlEncoder.Encode(Jwk(key.PublicJwk()).ComputeJwkThumbprint()));
    }

    [Fact]
    public void Keys_without_a_defined_thumbprint_here_get_none()
    {
        using var key = TestKey.Es256();
        var withoutY = key.PublicJwk();
        withoutY.Remove("y");
        var quoted = key.PublicJwk();
        quoted["x"] = "a\"b";

        JwkThumbprint.TryCompute(Jwk(new JsonObject { ["kty"] = "oct", ["k"] = "c2VjcmV0" }), out var oct).ShouldBeFalse();
        oct.ShouldBeNull();
        JwkThumbprint.TryCompute(Jwk(withoutY), out _).ShouldBeFalse();
        JwkThumbprint.TryCompute(Jwk(quoted), out _).ShouldBeFalse();
        JwkThumbprint.TryCompute(Jwk(new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }), out _).ShouldBeFalse();
    }
}
