using System.CommandLine;
using Floyo.Recovery.Configuration;
using Floyo.Recovery.Rotation;
using Floyo.Recovery.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Floyo.Cli.Commands;

internal static class CredentialsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var init = new Command("init", "Create the application's group and blue/green login roles (idempotent) and issue the first credential") { json };
        init.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var provisioned = await services.GetRequiredService<CredentialProvisioner>().InitAsync(token);
            var settings = services.GetRequiredService<IOptions<RotationOptions>>().Value;
            var store = services.GetRequiredService<ISecretStore>();
            RotationReport? issued = null;
            if (await store.GetCurrentAsync(settings.Secret, token) is null)
            {
                // No credential yet: the first rotation has nothing to retire, so it does not wait.
                issued = await services.GetRequiredService<RotationRunner>().RunAsync(new RotationRequest(DatabaseCredential: true, TaggedSecrets: false), null, token);
            }
            if (result.GetValue(json))
            {
                Output.Json(new { provisioned, issued });
                return 0;
            }
            Console.WriteLine($"application roles on {provisioned.Server}/{provisioned.Database}: group {provisioned.GroupRole}, logins {string.Join(", ", provisioned.LoginRoles)}");
            Console.WriteLine(provisioned.Changes.Count == 0 ? "  already in place; nothing changed" : string.Join(Environment.NewLine, provisioned.Changes.Select(c => "  " + c)));
            if (issued is not null)
            {
                var first = issued.Rotated[0];
                Console.WriteLine($"issued the first credential: secret '{first.Secret}' version {first.NewVersion} for role {first.Role} in {store.Location}");
            }
            return 0;
        }, ct));
        return new Command("credentials", "The application's PostgreSQL login roles") { init };
    }
}
