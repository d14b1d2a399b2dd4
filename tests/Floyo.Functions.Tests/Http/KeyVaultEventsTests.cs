using System.Text.Json;
using Floyo.Functions.Http;
using Floyo.Functions.Rotation;
using Floyo.Functions.Tests.Support;
using Floyo.Functions.Timers;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Floyo.Recovery.Tests.Support;
using Floyo.Recovery.Workflows.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RotationScenario = Floyo.Recovery.Tests.Rotation.RotationScenario;

namespace Floyo.Functions.Tests.Http;

/// <summary>The Key Vault webhook, called directly with published Event Grid payloads, and the rotation it starts.</summary>
public sealed class KeyVaultEventsTests
{
    private const string Vault = "floyo-kv";

    private static KeyVaultEventsFunction Function(WorkflowHost host) => new(
        Starter(),
        host.Services.GetRequiredService<ISecretStore>(),
        host.Services.GetRequiredService<IOptions<RotationOptions>>(),
        host.Services.GetRequiredService<IOptions<SecretOptions>>(),
        NullLogger<KeyVaultEventsFunction>.Instance);

    private static CredentialRotationStarter Starter() => new(TimeProvider.System, NullLogger<CredentialRotationStarter>.Instance);

    private static HttpRequest Post(string body) => HttpFunctionTests.Request("POST", body, who: null);

    private static async Task<(int Status, JsonElement Body)> SendAsync(KeyVaultEventsFunction function, WorkflowHost host, string body) =>
        HttpFunctionTests.Read(await function.RunAsync(Post(body), host.Client, default));

    /// <summary>A host whose secrets live in an owner-only file; nothing here ever reaches a database.</summary>
    private static Task<WorkflowHost> FileStoreHostAsync(TempDirectory dir) => WorkflowHost.StartAsync(new Dictionary<string, string?>
    {
        ["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:9/none",
        ["BACKUP_DIR"] = Path.Combine(dir.Path, "backups"),
        ["SECRET_STORE"] = "file",
        ["FLOYO_SECRETS_FILE"] = Path.Combine(dir.Path, "secrets.json"),
        ["KEY_VAULT_URI"] = $"https://{Vault}.vault.azure.net/",
    });

    [Fact]
    public async Task The_subscription_handshakes_are_answered_and_start_nothing()
    {
        using var dir = new TempDirectory();
        await using var host = await FileStoreHostAsync(dir);
        var function = Function(host);

        var (status, body) = await SendAsync(function, host, EventGridSamples.SubscriptionValidation);
        Assert.Equal(200, status);
        Assert.Equal(EventGridSamples.ValidationCode, body.GetProperty("validationResponse").GetString());

        // CloudEvents 1.0: Event Grid asks with OPTIONS and expects its origin allowed back.
        var options = HttpFunctionTests.Request("OPTIONS", who: null);
        options.Headers["WebHook-Request-Origin"] = "eventgrid.azure.net";
        Assert.IsType<OkResult>(await function.RunAsync(options, host.Client, default));
        Assert.Equal("eventgrid.azure.net", options.HttpContext.Response.Headers["WebHook-Allowed-Origin"].ToString());
        var (refused, _) = HttpFunctionTests.Read(await function.RunAsync(HttpFunctionTests.Request("OPTIONS", who: null), host.Client, default));
        Assert.Equal(400, refused);

        Assert.Null(await host.Client.GetInstanceAsync(CredentialRotationStarter.InstanceId));
    }

    [Theory]
    [InlineData("", "the request body is empty")]
    [InlineData("[{\"id\":", "the request body is not valid JSON")]
    [InlineData("42", "the request body must be a JSON array of events or one CloudEvent, not number")]
    [InlineData("[\"Microsoft.KeyVault.SecretNearExpiry\"]", "event 0 is not a JSON object")]
    [InlineData("[{\"id\":\"1\",\"subject\":\"floyo-app-db\",\"data\":{}}]", "event 0 has no eventType (Event Grid schema) or type (CloudEvents)")]
    [InlineData("[{\"eventType\":\"Microsoft.KeyVault.SecretNearExpiry\",\"data\":{}}]", "event 0 (Microsoft.KeyVault.SecretNearExpiry) has no id")]
    [InlineData("[{\"id\":\"1\",\"eventType\":\"Microsoft.EventGrid.SubscriptionValidationEvent\",\"data\":{}}]", "the subscription validation event has no data.validationCode")]
    [InlineData("[{\"id\":\"1\",\"eventType\":\"Microsoft.KeyVault.SecretNearExpiry\",\"data\":{\"VaultName\":\"floyo-kv\"}}]", "event 1 (Microsoft.KeyVault.SecretNearExpiry) names no secret")]
    public async Task A_malformed_delivery_gets_400_and_starts_nothing(string body, string error)
    {
        using var dir = new TempDirectory();
        await using var host = await FileStoreHostAsync(dir);

        var (status, json) = await SendAsync(Function(host), host, body);

        Assert.Equal(400, status);
        Assert.StartsWith(error, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Null(await host.Client.GetInstanceAsync(CredentialRotationStarter.InstanceId));
    }

    [Fact]
    public async Task Events_for_secrets_floyo_dr_does_not_rotate_are_ignored_with_200()
    {
        using var dir = new TempDirectory();
        await using var host = await FileStoreHostAsync(dir);
        var store = host.Services.GetRequiredService<ISecretStore>();
        var untagged = await store.SetAsync("third-party-token", "x-1234567890", new Dictionary<string, string>(), null, default);
        var app = await store.SetAsync("floyo-app-db", new DatabaseCredential("floyo_app_blue", "pw-1234567890").ToJson(), new Dictionary<string, string>(), DatabaseCredential.ContentType, default);
        var newer = await store.SetAsync("floyo-app-db", new DatabaseCredential("floyo_app_green", "pw-0987654321").ToJson(), new Dictionary<string, string>(), DatabaseCredential.ContentType, default);
        var function = Function(host);

        async Task<string> IgnoredAsync(string body)
        {
            var (status, json) = await SendAsync(function, host, body);
            Assert.Equal(200, status);
            Assert.False(json.TryGetProperty("rotation", out _), "nothing was started");
            var outcome = Assert.Single(json.GetProperty("events").EnumerateArray());
            Assert.Equal("ignored", outcome.GetProperty("outcome").GetString());
            return outcome.GetProperty("reason").GetString()!;
        }

        Assert.Equal("not a secret near-expiry or expired event", await IgnoredAsync(EventGridSamples.NewVersionCreated));
        Assert.StartsWith("not rotated by floyo-dr", await IgnoredAsync(EventGridSamples.KeyVault(EventGridEvents.SecretNearExpiry, Vault, "third-party-token", untagged.Version)), StringComparison.Ordinal);
        Assert.Equal("the secret does not exist in the store", await IgnoredAsync(EventGridSamples.KeyVault(EventGridEvents.SecretExpired, Vault, "never-made", "0123")));
        Assert.Equal($"vault sample-kv is not this app's vault ({Vault})", await IgnoredAsync(EventGridSamples.KeyVault(EventGridEvents.SecretNearExpiry, "sample-kv", "floyo-app-db", newer.Version)));
        Assert.StartsWith($"version {app.Version} is no longer the current one ({newer.Version})",
            await IgnoredAsync(EventGridSamples.KeyVault(EventGridEvents.SecretNearExpiry, Vault, "floyo-app-db", app.Version, cloudEvents: true)), StringComparison.Ordinal);

        Assert.Null(await host.Client.GetInstanceAsync(CredentialRotationStarter.InstanceId));
    }

    [Fact]
    public async Task A_near_expiry_event_rotates_the_database_login_end_to_end_and_shares_one_instance_with_the_timer()
    {
        await using var scenario = await RotationScenario.CreateAsync("keyvault");
        var vault = scenario.Vault!;
        await using (var engine = scenario.Engine(graceSeconds: 0))
        {
            await scenario.InitAsync(engine);
            await engine.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(TaggedSecrets: false), null, default);
        }
        var store = vault.Store();
        var (first, original) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
        Assert.Equal(scenario.Blue, original.Username);
        var settings = scenario.Settings(graceSeconds: 3);
        settings["KEY_VAULT_URI"] = vault.VaultUri.ToString();
        await using var host = await WorkflowHost.StartAsync(settings, services => services.AddSingleton<ISecretStore>(vault.Store()));
        var function = Function(host);
        var vaultName = vault.VaultUri.Host.Split('.')[0];
        var responses = new List<string>();

        var (status, body) = await SendAsync(function, host, EventGridSamples.KeyVault(EventGridEvents.SecretNearExpiry, vaultName, RotationScenario.Secret, first.Version));
        responses.Add(body.GetRawText());
        Assert.Equal(200, status);
        var rotation = body.GetProperty("rotation");
        Assert.True(rotation.GetProperty("started").GetBoolean());
        Assert.Equal(CredentialRotationStarter.InstanceId, rotation.GetProperty("instanceId").GetString());
        var firstRotation = rotation.GetProperty("rotationId").GetString()!;
        Assert.Equal("rotation-started", Assert.Single(body.GetProperty("events").EnumerateArray()).GetProperty("outcome").GetString());

        // While it waits out its grace period, the monthly timer and a repeated event find it running and leave it be.
        await host.WaitForStatusAsync(CredentialRotationStarter.InstanceId, RotationStatus.GracePeriod);
        var timer = await new RotationTimer(Starter(), host.Configuration, NullLogger<RotationTimer>.Instance).RunAsync(new TimerInfo(), host.Client, default);
        Assert.False(timer.Started);
        Assert.Equal(CredentialRotationStarter.InstanceId, timer.InstanceId);
        Assert.Equal("Running", timer.Status);
        // (The new version is already published by now; an event about it asks for a rotation again.)
        var published = (await store.GetCurrentAsync(RotationScenario.Secret, default))!.Properties.Version;
        Assert.NotEqual(first.Version, published);
        var (_, repeated) = await SendAsync(function, host, EventGridSamples.KeyVault(EventGridEvents.SecretExpired, vaultName, RotationScenario.Secret, published, cloudEvents: true));
        responses.Add(repeated.GetRawText());
        Assert.False(repeated.GetProperty("rotation").GetProperty("started").GetBoolean());
        Assert.Equal("rotation-already-running", Assert.Single(repeated.GetProperty("events").EnumerateArray()).GetProperty("outcome").GetString());

        var done = await WaitForRotationAsync(host, firstRotation);
        var database = Assert.Single(done.Rotated);
        Assert.Equal(scenario.Green, database.Role);
        Assert.Equal(scenario.Blue, database.RetiredRole);
        var (second, rotated) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
        Assert.Null(await scenario.TryLoginAsync(rotated));
        Assert.Equal("28P01", await scenario.TryLoginAsync(original));

        // The event about the replaced version is stale now.
        var (_, stale) = await SendAsync(function, host, EventGridSamples.KeyVault(EventGridEvents.SecretNearExpiry, vaultName, RotationScenario.Secret, first.Version));
        Assert.Equal("ignored", Assert.Single(stale.GetProperty("events").EnumerateArray()).GetProperty("outcome").GetString());

        // A finished rotation gives way: the next trigger runs a new rotation under the same id.
        var next = await new RotationTimer(Starter(), host.Configuration, NullLogger<RotationTimer>.Instance).RunAsync(new TimerInfo(), host.Client, default);
        Assert.True(next.Started);
        Assert.NotEqual(firstRotation, next.RotationId);
        var again = await WaitForRotationAsync(host, next.RotationId!);
        Assert.Equal(scenario.Blue, Assert.Single(again.Rotated).Role);
        var (_, latest) = Assert.Single(await scenario.EnabledCredentialsAsync(store));
        Assert.Null(await scenario.TryLoginAsync(latest));
        Assert.Equal("28P01", await scenario.TryLoginAsync(rotated));
        Assert.NotEqual(second.Version, (await store.GetCurrentAsync(RotationScenario.Secret, default))!.Properties.Version);

        // Nothing the webhook answered or the workflow logged holds a password.
        var everything = string.Join("\n", responses.Concat(host.Logs.Entries.Select(e => e.Message)));
        foreach (var secret in await scenario.AllSecretValuesAsync(store))
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Waits for the rotation with this id to finish. The instance id is reused, so the finished state of an
    /// earlier run must not be mistaken for this one's.
    /// </summary>
    private static async Task<RotationWorkflowResult> WaitForRotationAsync(WorkflowHost host, string rotationId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            var state = await host.Client.GetInstanceAsync(CredentialRotationStarter.InstanceId, getInputsAndOutputs: true);
            if (state is { IsCompleted: true } && state.ReadInputAs<RotationWorkflowInput>()?.RotationId == rotationId)
            {
                Assert.True(state.RuntimeStatus == OrchestrationRuntimeStatus.Completed, state.FailureDetails?.ErrorMessage);
                var result = state.ReadOutputAs<RotationWorkflowResult>()!;
                Assert.Equal(rotationId, result.RotationId);
                return result;
            }
            Assert.True(DateTime.UtcNow < deadline, $"rotation {rotationId} did not finish; last status {state?.RuntimeStatus} {state?.SerializedCustomStatus}");
            await Task.Delay(100);
        }
    }
}
