using System.CommandLine;
using Floyo.Recovery.Rotation;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

internal static class RotateCredentialsCommand
{
    public static Command Create()
    {
        var only = new Option<string?>("--only") { Description = "'database' (the application's login) or 'secrets' (secrets tagged floyo-rotation=random); both when omitted" };
        only.AcceptOnlyFromAmong("database", "secrets");
        var json = new Option<bool>("--json") { Description = "Print the rotation report as JSON" };
        var command = new Command("rotate-credentials",
            "Rotate the application's database login (blue/green, no downtime) and every secret tagged for rotation; resumes an interrupted rotation")
        { only, json };
        command.SetAction((result, ct) => CliHost.RunAsync(async (services, token) =>
        {
            var which = result.GetValue(only);
            var request = new RotationRequest(DatabaseCredential: which is null or "database", TaggedSecrets: which is null or "secrets");
            var report = await services.GetRequiredService<RotationRunner>().RunAsync(request, new Progress<string>(Console.Error.WriteLine), token);
            if (result.GetValue(json))
            {
                Output.Json(report);
                return 0;
            }
            foreach (var r in report.Rotated)
            {
                var role = r.Role is null ? "" : $", role {r.Role} active, {r.RetiredRole} retired ({r.SessionsEnded} sessions ended)";
                Console.WriteLine($"rotated {r.Secret}: version {r.NewVersion}{role}, {r.DisabledVersions.Count} previous versions disabled");
            }
            foreach (var s in report.Skipped)
            {
                Console.WriteLine($"skipped {s}");
            }
            if (report.Rotated.Count == 0)
            {
                Console.WriteLine("nothing to rotate");
            }
            return 0;
        }, ct));
        return command;
    }
}
